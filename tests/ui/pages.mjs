// Browsers for the call tests (calls.mjs, conference.mjs): a Chromium whose fake microphone plays a
// pure tone, a page logged in to a node that reports console errors, CSP violations and requests
// outside its node, and what a page hears on a remote stream (a Web Audio analyser).
import path from 'node:path';
import { chromium } from 'playwright-core';

import { tmpdir, writeTone } from './kith.mjs';

// A persistent context (fresh profile) whose microphone plays `tone` Hz (a WAV written in `dir`).
export async function launchWithTone({ chromiumPath, chromiumArgs, dir, name, tone }) {
  const wav = writeTone(path.join(dir, `${name}-${tone}.wav`), tone, 4);
  return chromium.launchPersistentContext(tmpdir(`kith-ui-chromium-${name}-`), {
    executablePath: chromiumPath, headless: true, viewport: { width: 1100, height: 900 },
    args: [...chromiumArgs, '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`,
      '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
}

// A page of `ctx` logged in to `node` (through `kith ui`'s one-time link); problems go to `problems`.
export async function openPage(ctx, node, label, problems) {
  const p = ctx.pages()[0] && ctx.pages()[0].url() === 'about:blank' ? ctx.pages()[0] : await ctx.newPage();
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console (${label}): ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`page error (${label}): ${e.message}`));
  p.on('request', (r) => {
    if (!r.url().startsWith(`http://${node.api}/`) && !r.url().startsWith('data:')) problems.push(`foreign request (${label}): ${r.url()}`);
  });
  await p.exposeFunction('kithReportCsp', (v) => problems.push(`CSP violation (${label}): ${v}`));
  await p.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.kithReportCsp(e.violatedDirective));
  });
  await p.goto(node.runJson(['ui']).url);
  await p.locator('#view-transfers').waitFor({ state: 'visible' }).catch((e) => {
    throw new Error(`${e.message}\n${problems.join('\n')}`);
  });
  return p;
}

// What the page hears on each <audio> element matching `selector` that plays a stream: per element
// (keyed by the `data-contact` of the element or an ancestor, else its id), a Web Audio analyser on
// its stream, averaged over ~1 s: the peak's frequency (100–2000 Hz) and the level (dB) at each of
// `candidates`. All are measured at once.
export function spectra(p, selector, candidates) {
  return p.evaluate(async ([selector, candidates]) => {
    const streams = {};
    for (const a of document.querySelectorAll(selector)) {
      if (!a.srcObject || !a.srcObject.getAudioTracks().length) continue;
      const holder = a.closest('[data-contact]');
      streams[holder ? holder.dataset.contact : a.id] = a.srcObject;
    }
    const ctx = new AudioContext();
    await ctx.resume();
    const probes = Object.entries(streams).map(([key, stream]) => {
      const source = ctx.createMediaStreamSource(stream);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      source.connect(analyser);
      return { key, source, analyser, bins: new Float32Array(analyser.frequencyBinCount),
        sum: new Float64Array(analyser.frequencyBinCount) };
    });
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const pr of probes) {
        pr.analyser.getFloatFrequencyData(pr.bins);
        for (let k = 0; k < pr.bins.length; k++) pr.sum[k] += Math.pow(10, pr.bins[k] / 10);
      }
    }
    const hz = ctx.sampleRate / 8192;
    const out = {};
    for (const { key, source, sum } of probes) {
      let peak = 0;
      for (let k = Math.floor(100 / hz); k < 2000 / hz; k++) if (sum[k] > sum[peak]) peak = k;
      const db = (f) => {
        const k = Math.round(f / hz);
        return 10 * Math.log10(Math.max(sum[k - 1], sum[k], sum[k + 1]) / 10 + 1e-30);
      };
      out[key] = { peakHz: peak * hz, db: Object.fromEntries(candidates.map((f) => [f, db(f)])) };
      source.disconnect();
    }
    await ctx.close();
    return out;
  }, [selector, candidates]);
}
