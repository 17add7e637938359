import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { requireCliBuild, runCli } from './support/cli-process';

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core drives it, downloading no browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const INCIDENT = 'inc-2022-01-17-2fa-bypass';
const TIMEOUT_MS = 90_000;

const rowsOf = (text: string): string[][] => text.trimEnd().split('\r\n').map((line) => line.split(','));

/** `ledger report` on a ledger that holds the January 2022 incident (played by `ledger incident` into a kept file). */
describe('ledger report --incident', () => {
  let dir: string;
  let env: Record<string, string>;
  let out: string;

  beforeAll(async () => {
    requireCliBuild();
    dir = mkdtempSync(join(tmpdir(), 'ledger-report-'));
    const db = join(dir, 'ledger.db');
    expect((await runCli(['incident', '--accounts', '600', '--store', db, '--json'], {}, { timeoutMs: TIMEOUT_MS })).code).toBe(0);
    env = { LEDGER_EVENT_STORE: `sqlite:${db}` };
    out = join(dir, 'report');
    const run = await runCli(['report', '--incident', INCIDENT, '--out', out], env, { timeoutMs: TIMEOUT_MS });
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('report: 483 affected accounts') });
  }, TIMEOUT_MS * 2);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one row per affected account, USD with two decimals at the recorded price, and a totals row that adds up', () => {
    const [header, ...rows] = rowsOf(readFileSync(join(out, 'accounts.csv'), 'utf8'));
    expect(header).toEqual(['incidentId', 'accountId', 'status', 'lost', 'lostUsd', 'reimbursedUsd', 'payoutUsd', 'outstandingUsd', 'withdrawalsLost', 'withdrawalsPrevented']);
    const totals = rows.pop()!;
    expect(rows).toHaveLength(483);
    expect(new Set(rows.map((row) => row[1])).size).toBe(483);
    for (const row of rows) for (const usd of row.slice(4, 8)) expect(usd).toMatch(/^\d+\.\d{2}$/);
    const cents = (index: number) => rows.reduce((sum, row) => sum + BigInt(row[index]!.replace('.', '')), 0n);
    expect(totals.slice(0, 2)).toEqual(['TOTAL', '483 accounts']);
    expect(BigInt(totals[4]!.replace('.', ''))).toBe(cents(4));
    // Within a cent per account of the published US$33,812,346 (each row is rounded once).
    expect(Number(totals[4]) - 33_812_346).toBeLessThan(1);
  });

  it('gives every reimbursement its own reference and values it at the recorded price', () => {
    const [header, ...rows] = rowsOf(readFileSync(join(out, 'reimbursements.csv'), 'utf8'));
    expect(header).toEqual(['reference', 'accountId', 'reimbursementId', 'asset', 'amount', 'priceUsd', 'usd', 'reimbursedAt', 'position']);
    const totals = rows.pop()!;
    expect(new Set(rows.map((row) => row[0])).size).toBe(rows.length);
    const eth = rows.find((row) => row[3] === 'ETH')!;
    expect(eth[5]).toBe('3128.97073358');
    for (const row of rows) expect(row[6]).toMatch(/^\d+\.\d{2}$/);
    expect(BigInt(totals[6]!.replace('.', ''))).toBe(rows.reduce((sum, row) => sum + BigInt(row[6]!.replace('.', '')), 0n));
    expect(readFileSync(join(out, 'losses.csv'), 'utf8')).toContain('\r\nTOTAL,,33812346.00,');
  });

  it('states its source and its chosen figures, and links its CSVs, in the HTML report', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(`Ledger: <code>${env.LEDGER_EVENT_STORE}</code>`);
    expect(html).toMatch(/Head position of the log: \d+/);
    expect(html).toMatch(/Generated at \d{4}-\d{2}-\d{2}T/);
    expect(html).toContain('chosen by the ledger, not published');
    expect(html).toContain('<h2>Approved payouts</h2>');
    for (const file of ['accounts.csv', 'reimbursements.csv', 'losses.csv']) expect(html).toContain(`<a href="${file}">`);
  });

  it('draws a timeline whose labels neither overlap nor get cut, in Chromium (a screenshot beside the report)', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      // A narrow window, where long labels must wrap.
      const page = await browser.newPage({ viewport: { width: 480, height: 900 } });
      await page.goto(`file://${join(out, 'report.html')}`);
      // Runs in the page: the project compiles without the DOM's types, so the few it needs are named here.
      interface Rect { left: number; right: number; top: number; bottom: number }
      interface Shown { getBoundingClientRect(): Rect; scrollWidth: number; clientWidth: number }
      interface Item { querySelector(selector: string): Shown }
      const layout = await page.$$eval('ol.timeline li', (items) => {
        const box = (element: Shown): Rect => {
          const r = element.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
        };
        const pageWidth = (globalThis as unknown as { document: { documentElement: Shown } }).document.documentElement.clientWidth;
        return (items as unknown as Item[]).map((item) => {
          const label = item.querySelector('.label');
          const time = item.querySelector('time');
          return { label: box(label), time: box(time), cut: label.scrollWidth > label.clientWidth || time.scrollWidth > time.clientWidth, pageWidth };
        });
      });
      expect(layout).toHaveLength(6);
      const boxes = layout.flatMap((entry) => [entry.label, entry.time]);
      const overlap = (a: (typeof boxes)[number], b: (typeof boxes)[number]) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      for (let i = 0; i < boxes.length; i += 1) for (let j = i + 1; j < boxes.length; j += 1) expect(overlap(boxes[i]!, boxes[j]!)).toBe(false);
      for (const entry of layout) {
        expect(entry.cut).toBe(false);
        expect(entry.label.right).toBeLessThanOrEqual(entry.pageWidth);
      }
      const shot = join(out, 'timeline.png');
      await (await page.$('ol.timeline'))!.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(1_000);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('exits 1 for an incident the ledger does not hold', async () => {
    const run = await runCli(['report', '--incident', 'inc-nope', '--out', join(dir, 'nope')], env, { timeoutMs: TIMEOUT_MS });
    expect(run).toMatchObject({ code: 1, stdout: expect.stringContaining('incident inc-nope does not exist') });
    expect(existsSync(join(dir, 'nope'))).toBe(false);
  });
});
