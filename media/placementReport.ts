// A placement as a Markdown report, for "Switchyard: Show Placement": what the panel's "why here?" shows,
// for a placement made for any client (the endpoint's x-switchyard-placement header, a receipt's placementId).

import type { Candidate, Placement } from '../daemon/protocol';
import { candidateCells, placementRows } from './panelState';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function table(candidates: Candidate[], chosen: string | null): string[] {
  return [
    '| site | where | est. cost | first token | total | in flight / queue | verdict |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...candidates.map((c) => {
      const row = candidateCells(c, chosen);
      return `| ${c.site.id === chosen ? `**${cell(row.site)}**` : cell(row.site)} | ${cell(c.site.location)} | ${row.cost} | ${row.ttft} | ${row.total} | ${row.load} | ${cell(row.verdict)} |`;
    }),
  ];
}

export function placementMarkdown(p: Placement): string {
  const { rows, standingDown } = placementRows(p);
  return [
    `# Placement ${p.id}`,
    '',
    `Policy **${cell(p.policy)}**${p.fallbackOf ? `, the fallback of **${cell(p.fallbackOf)}**,` : ''} for **${cell(p.model)}**, decided ${p.decidedAt}: ${p.chosen ? `placed at \`${p.chosen}\`` : 'no site was eligible'}.`,
    '',
    `> ${cell(p.why)}`,
    '',
    ...table(rows, p.chosen),
    ...(standingDown.length > 0 ? ['', `Real sites without an API key, standing down for their simulated twins above:`, '', ...table(standingDown, p.chosen)] : []),
    '',
  ].join('\n');
}
