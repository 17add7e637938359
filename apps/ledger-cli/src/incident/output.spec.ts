import { csv } from './files';
import { barChartSvg, escapeHtml } from './html-report';
import { grouped, table } from './text-report';

describe('incident report output', () => {
  test('CSV quotes commas, quotes and line breaks (RFC 4180) and ends lines with CRLF', () => {
    expect(csv(['a', 'b'], [['plain', 'x,y'], ['say "hi"', 'two\nlines'], [null, true]])).toBe(
      'a,b\r\nplain,"x,y"\r\n"say ""hi""","two\nlines"\r\n,true\r\n',
    );
  });

  test('amounts are grouped in thousands for people, decimals untouched', () => {
    expect(grouped('33812346.00')).toBe('33,812,346.00');
    expect(grouped('3128.97073358')).toBe('3,128.97073358');
    expect(grouped('120')).toBe('120');
    expect(grouped('0.000000000000000001')).toBe('0.000000000000000001');
  });

  test('tables pad text left and numbers right', () => {
    expect(table(['asset', 'USD'], [['ETH', '15,132,516.00'], ['SOL', '17,400.00']], ['left', 'right']).split('\n')).toEqual([
      '  asset            USD',
      '  -----  -------------',
      '  ETH    15,132,516.00',
      '  SOL        17,400.00',
    ]);
  });

  test('HTML and SVG text is escaped', () => {
    expect(escapeHtml(`<b>"Tom" & 'Jerry'</b>`)).toBe('&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;');
    expect(barChartSvg('<losses>', [{ label: 'A&B', cents: 1n, text: 'x' }])).not.toMatch(/<losses>|A&B/);
  });

  test('bars scale to the largest, and a zero bar has no width', () => {
    const svg = barChartSvg('losses', [
      { label: 'BTC', cents: 1_861_363_000n, text: 'US$18,613,630.00' },
      { label: 'ETH', cents: 930_681_500n, text: 'half' },
      { label: 'USD', cents: 0n, text: 'none' },
    ]);
    const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="(\d+)"/g)].map((match) => Number(match[1]));
    expect(widths).toEqual([620, 310, 0]);
  });
});
