import { expect, test } from 'bun:test';
import { resolve } from 'node:path';

test('the whole project typechecks under strict TypeScript', () => {
  const root = resolve(import.meta.dir, '..');
  const result = Bun.spawnSync([resolve(root, 'node_modules/.bin/tsc'), '-p', resolve(root, 'tsconfig.json'), '--noEmit', '--pretty', 'false'], { cwd: root });
  const output = `${result.stdout.toString()}${result.stderr.toString()}`;
  expect(output.trim()).toBe('');
  expect(result.exitCode).toBe(0);
});
