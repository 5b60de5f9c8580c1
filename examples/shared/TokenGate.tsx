import { useState, type ReactNode } from 'react';
import { saveToken } from './session';

/** Without a token: a paste box (examples only; `npm start` prints ready-to-open URLs). */
export function TokenGate({ storageKey, role, children, token }: { storageKey: string; role: string; token: string | null; children: ReactNode }) {
  const [text, setText] = useState('');
  if (token) return <>{children}</>;
  return (
    <main className="gate">
      <h1>Paste a {role} token</h1>
      <p>
        <code>npm start</code> prints one, or run <code>npm run -s token -- --role {role} --sub …</code>.
      </p>
      <textarea aria-label="token" value={text} onChange={(e) => setText(e.target.value)} rows={4} />
      <button
        onClick={() => {
          saveToken(storageKey, text);
          window.location.reload();
        }}
        disabled={!text.trim()}
      >
        Use this token
      </button>
    </main>
  );
}
