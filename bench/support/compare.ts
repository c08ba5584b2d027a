import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { int, printTable } from './report.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Runs one benchmark script on an older commit and on this tree, alternately, in one
 * command, so both see the same machine and its load: `--against <ref>` on any bench that
 * supports it. The older commit is checked out as a temporary git worktree sharing this
 * tree's node_modules. Prints each round and the median of each side.
 */
export async function compareWithCommit(o: {
  name: string;
  script: string;
  against: string;
  rounds: number;
  env: NodeJS.ProcessEnv;
  /** The figure a run printed (higher is better), or null when it printed none. */
  figure: (output: string) => number | null;
  unit: string;
}): Promise<void> {
  const commit = execFileSync('git', ['rev-parse', '--short', o.against], { cwd: ROOT }).toString().trim();
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  const dir = mkdtempSync(path.join(tmpdir(), `angelis-${commit}-`));
  execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { cwd: ROOT, stdio: 'ignore' });
  try {
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    if (!existsSync(path.join(dir, o.script))) throw new Error(`${o.script} does not exist at ${commit}`);
    const sides = [
      { label: `${commit} (--against)`, cwd: dir, figures: [] as number[] },
      { label: `${head}${dirty() ? '+changes' : ''} (this tree)`, cwd: ROOT, figures: [] as number[] },
    ];
    for (let round = 1; round <= o.rounds; round++) {
      // Alternate which side goes first, so neither always runs on a warmer machine.
      for (const side of round % 2 ? sides : [...sides].reverse()) {
        console.log(`round ${round}/${o.rounds}: ${side.label}...`);
        const output = await run(side.cwd, o.script, o.env);
        const figure = o.figure(output);
        if (figure === null) throw new Error(`${side.label} printed no figure:\n${output.slice(-2000)}`);
        side.figures.push(figure);
        console.log(`  ${int(figure)} ${o.unit}`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    printTable(
      `${o.name}: ${o.unit}, ${o.rounds} alternating rounds on this machine`,
      ['code', ...sides[0].figures.map((_, i) => `round ${i + 1}`), 'median'],
      sides.map((s) => [s.label, ...s.figures.map(int), int(median(s.figures))]),
    );
    const [before, after] = sides.map((s) => median(s.figures));
    console.log(`this tree / ${commit}: ${(after / before).toFixed(2)}x`);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

function dirty(): boolean {
  return execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString().trim() !== '';
}

function run(cwd: string, script: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    // Through tsx on both sides: commits before the switch to Node's own type stripping need it.
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd, env: { ...env, BENCH_AGAINST: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${script} in ${cwd} exited ${code}:\n${output.slice(-2000)}`))));
  });
}
