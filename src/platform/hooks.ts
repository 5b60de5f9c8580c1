/**
 * A typed in-process hook: a lower domain announces what happened ("a purchase was posted") and
 * the composition root (src/app.ts) wires what higher domains do about it, so the announcer never
 * knows who listens (no up-calls). Listeners run in registration order and are awaited, so a
 * hook emitted inside a unit of work runs in that same transaction.
 */
export class Hook<Event> {
  private readonly listeners: ((event: Event) => Promise<void> | void)[] = [];

  on(listener: (event: Event) => Promise<void> | void): void {
    this.listeners.push(listener);
  }

  async emit(event: Event): Promise<void> {
    for (const listener of this.listeners) await listener(event);
  }
}
