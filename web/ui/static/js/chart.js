// A small rate chart drawn on a canvas: download and upload over the last
// two minutes, scaled to the largest rate shown. Colours come from the CSS
// custom properties, so it follows light and dark mode.

import { rate } from './format.js';
import { historyLength } from './live.js';

export class RateChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.samples = [];
  }

  /** set replaces the samples: stats objects with rate_in and rate_out. */
  set(samples) {
    this.samples = samples.slice(-historyLength);
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 600;
    const hgt = c.clientHeight || 160;
    if (c.width !== Math.round(w * dpr)) c.width = Math.round(w * dpr);
    if (c.height !== Math.round(hgt * dpr)) c.height = Math.round(hgt * dpr);
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const css = getComputedStyle(c);
    const colIn = css.getPropertyValue('--chart-in').trim() || '#2f6f5e';
    const colOut = css.getPropertyValue('--chart-out').trim() || '#b5651d';
    const colGrid = css.getPropertyValue('--border').trim() || '#ccc';
    const colText = css.getPropertyValue('--muted').trim() || '#666';
    const top = Math.max(1024, ...this.samples.map((s) => Math.max(s.rate_in, s.rate_out)));
    const pad = { l: 4, r: 4, t: 18, b: 4 };
    const plotW = w - pad.l - pad.r;
    const plotH = hgt - pad.t - pad.b;
    g.strokeStyle = colGrid;
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + (plotH * i) / 4 + 0.5;
      g.beginPath(); g.moveTo(pad.l, y); g.lineTo(w - pad.r, y); g.stroke();
    }
    g.fillStyle = colText;
    g.font = '12px system-ui, sans-serif';
    g.fillText('max ' + rate(top), pad.l, 12);
    const line = (key, colour) => {
      g.strokeStyle = colour;
      g.lineWidth = 2;
      g.beginPath();
      this.samples.forEach((s, i) => {
        const x = pad.l + (plotW * (historyLength - this.samples.length + i)) / (historyLength - 1);
        const y = pad.t + plotH - (plotH * s[key]) / top;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    };
    line('rate_in', colIn);
    line('rate_out', colOut);
    const last = this.samples[this.samples.length - 1];
    c.setAttribute('aria-label', last
      ? `Transfer rate over the last two minutes; now ${rate(last.rate_in)} down, ${rate(last.rate_out)} up.`
      : 'Transfer rate over the last two minutes; no data yet.');
  }
}
