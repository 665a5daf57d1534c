// The spend view's chart: the theme colours it is drawn in (a canvas does not follow CSS variables, so a
// theme switch has to redraw it), and the dollar labels of its axis. The webview script itself needs a
// DOM and uPlot; what it decides with is here, pure.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpendSummary } from '../../daemon/protocol';
import { axisDollars, chartColours, coloursChanged, stackDays } from '../../media/spendModel';

/** A theme as the webview's CSS variables show it. */
const theme = (vars: Record<string, string>) => (name: string) => vars[name] ?? '';
const DARK_PLUS = theme({ '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-charts-red': '#f14c4c', '--vscode-foreground': '#cccccc', '--vscode-panel-border': '#80808059' });
const LIGHT_PLUS = theme({ '--vscode-charts-blue': '#1a85ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#388a34', '--vscode-charts-purple': '#652d90', '--vscode-charts-yellow': '#bf8803', '--vscode-charts-red': '#e51400', '--vscode-foreground': ' #616161', '--vscode-panel-border': '#80808059' });
/** Another dark theme: VS Code's body class stays "vscode-dark", only the variables change. */
const MONOKAI = theme({ '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-charts-red': '#f14c4c', '--vscode-foreground': '#f8f8f2', '--vscode-panel-border': '#414339' });

describe('the spend chart\'s theme colours', () => {
  it('are the theme\'s chart palette, foreground and border, each falling back as the legend\'s CSS does', () => {
    assert.deepEqual(chartColours(LIGHT_PLUS), { series: ['#1a85ff', '#d18616', '#388a34', '#652d90', '#bf8803', '#e51400'], axis: '#616161', grid: '#80808059' });
    // A theme without a purple keeps the others in their places, so bar i matches legend swatch i.
    const partial = chartColours(theme({ '--vscode-charts-blue': '#000001' }));
    assert.deepEqual(partial.series, ['#000001', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c']);
    assert.equal(partial.axis, '#ccc');
  });

  it('redraw the chart when a theme switch changed them, light to dark and between two dark themes alike', () => {
    const drawn = chartColours(DARK_PLUS);
    assert.equal(coloursChanged(drawn, chartColours(LIGHT_PLUS)), true);
    assert.equal(coloursChanged(drawn, chartColours(MONOKAI)), true, 'the body class is the same, the colours are not');
    // VS Code rewrites the body's classes on every style push (reduce motion, a screen reader): no theme change, no redraw.
    assert.equal(coloursChanged(drawn, chartColours(DARK_PLUS)), false);
    // Nothing drawn yet (no spend, or the view not rendered): nothing to redraw.
    assert.equal(coloursChanged(undefined, chartColours(LIGHT_PLUS)), false);
  });
});

describe('the spend chart\'s dollar axis', () => {
  it('labels every tick with the digits its step needs, so no two read alike and none is rounded away', () => {
    // uPlot steps by 1, 2, 2.5 and 5 times a power of ten; two significant digits would show 0.125 as $0.13 and 0.175 as $0.17.
    assert.deepEqual(axisDollars([0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175], 0.025), ['$0.000', '$0.025', '$0.050', '$0.075', '$0.100', '$0.125', '$0.150', '$0.175']);
    assert.deepEqual(axisDollars([0, 0.0025, 0.005, 0.0075, 0.01, 0.0125], 0.0025), ['$0.0000', '$0.0025', '$0.0050', '$0.0075', '$0.0100', '$0.0125']);
    assert.deepEqual(axisDollars([0, 0.02, 0.04, 0.06], 0.02), ['$0.00', '$0.02', '$0.04', '$0.06']);
    assert.deepEqual(axisDollars([0, 2.5, 5, 7.5], 2.5), ['$0.00', '$2.50', '$5.00', '$7.50']);
    assert.deepEqual(axisDollars([0, 500, 1000, 1500], 500), ['$0.00', '$500.00', '$1000.00', '$1500.00']);
    // Sums of floats land a hair off the step.
    assert.deepEqual(axisDollars([0.30000000000000004], 0.1), ['$0.30']);
  });

  it('has nothing to stack in a month without spend, though the month has days', () => {
    const quiet: SpendSummary = {
      day: '2026-03-01', month: '2026-03', todayNanoUsd: 0, monthNanoUsd: 0, reservedNanoUsd: 0, receipts: 0, recent: [],
      byProvider: {}, bySite: {}, byModel: {}, byWorkspace: {}, byClient: {}, days: [], budgets: [],
    };
    const s = stackDays(quiet, 'provider');
    assert.deepEqual([s.days, s.keys], [['2026-03-01'], []]);
  });
});
