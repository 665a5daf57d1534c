// The whole daemon under kill -9: a receipt the editor was told about (switchyard/receipt is sent only
// after the ledger append is durable) is never lost, never duplicated, and spend after recovery equals
// a recount of the ledger.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as proto from '../../daemon/protocol';
import { connect, startDaemon, tempDir } from '../support/daemon';

const ROUNDS = 6;

test('SIGKILL at random moments loses no acknowledged receipt and duplicates none', async () => {
  const stateDir = tempDir();
  const acked = new Set<string>();
  let tornRounds = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const d = await startDaemon({ stateDir, args: ['--sim-speed', '1000'] });
    const { rpc } = await connect(d);
    let flowing!: () => void;
    const firstReceipt = new Promise<void>((resolve) => (flowing = resolve));
    rpc.onNotification(proto.receipt, (r) => {
      acked.add(r.receipt.id);
      flowing();
    });
    let killed = false;
    const pump = async () => {
      while (!killed) {
        try {
          await rpc.sendRequest(proto.chat, { model: 'llama-3.1-8b', messages: [{ role: 'user', content: `round ${round}` }], maxTokens: 16 });
        } catch {
          return; // the daemon is gone
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    const pumps = Array.from({ length: 8 }, pump);
    // The random moment falls while receipts are being written, whatever the daemon's first request
    // costs (it builds the tokenizer when it comes before the daemon's own warm-up).
    await firstReceipt;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 500));
    killed = true;
    d.process.kill('SIGKILL');
    await d.exited;
    rpc.dispose();
    await Promise.all(pumps);
    // Some rounds also tear the ledger's last line, as a crash mid-write would.
    const ledgerDir = path.join(stateDir, 'ledger');
    const month = fs.readdirSync(ledgerDir).find((f) => f.endsWith('.jsonl'));
    if (month && round % 2 === 1) {
      fs.appendFileSync(path.join(ledgerDir, month), '{"receipt":{"id":"torn');
      tornRounds++;
    }
  }
  assert.ok(acked.size > ROUNDS * 5, `only ${acked.size} receipts acknowledged`);
  assert.ok(tornRounds > 0);

  const d = await startDaemon({ stateDir });
  const { rpc, close } = await connect(d);
  const out = path.join(stateDir, 'export.json');
  await rpc.sendRequest(proto.exportLedger, { path: out, format: 'json' });
  const ledger = JSON.parse(fs.readFileSync(out, 'utf8')) as proto.Receipt[];
  const ids = ledger.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'a receipt is in the ledger twice');
  const missing = [...acked].filter((id) => !ids.includes(id));
  assert.deepEqual(missing, [], 'acknowledged receipts lost');
  const spend = await rpc.sendRequest(proto.spend, {});
  const month = new Date().toISOString().slice(0, 7);
  const recount = ledger.filter((r) => r.createdAt.slice(0, 7) === month).reduce((sum, r) => sum + r.cost.totalNanoUsd, 0);
  assert.equal(spend.monthNanoUsd, recount, 'rollups differ from a recount of the ledger');
  assert.equal(spend.receipts, ledger.length);
  close();
  await d.stop();
});
