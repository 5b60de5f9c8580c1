import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface Sample {
  /** Unix seconds, when the page received the figures. */
  at: number;
  issued: number;
  redeemed: number;
}

/** Points issued and redeemed (30 days) as they move: uPlot, ~50 kB, canvas, no React wrapper needed. */
export function StatsChart({ samples }: { samples: Sample[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    plot.current = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 240,
        series: [{}, { label: 'issued (30d)', stroke: '#c8102e', width: 2 }, { label: 'redeemed (30d)', stroke: '#1f6feb', width: 2 }],
        axes: [{}, { size: 70 }],
      },
      [[], [], []],
      el,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData([samples.map((s) => s.at), samples.map((s) => s.issued), samples.map((s) => s.redeemed)]);
  }, [samples]);
  return <div ref={box} data-testid="chart" data-points={samples.length} />;
}
