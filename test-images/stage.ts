/**
 * Builds the Dockerfile's targets without Docker: each stage's instructions are carried out in a folder
 * that stands for the image's /app. COPY takes files from the build context as .dockerignore leaves it
 * (or from an earlier stage with --from), RUN runs the stage's own shell command (with /app meaning the
 * folder, and `chown` a no-op: there is no `node` user here), ENV/ENTRYPOINT/CMD/HEALTHCHECK are kept to
 * start the service and probe it as Docker would. `node` and `npm` are the Node major the images use
 * (IMAGE_NODE), and npm runs offline from the cache the repository's own `npm ci` filled. Debian packages
 * (`apt-get install`) are never installed or removed here: this machine stands for the image's system, so
 * each package must already be installed on it (checked with dpkg), and the apt steps around it are skipped.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { dockerfileStages, dockerIgnored, read, ROOT } from '../test/lib/compose-file';

export interface StagedImage {
  /** The folder standing for /app. */
  dir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
  user?: string;
  /** What the image's RUN steps printed (for a failing test's message). */
  log: string;
}

export interface StageOptions {
  /** The node binary of the images' major (from the npm package node-linux-<arch>). */
  node: string;
  /** Where to build; deps stages are cached under cacheDir by the hash of what they copy. */
  workDir: string;
  cacheDir: string;
}

/** `ARG NODE_VERSION=22` before the first FROM. */
export function imageNodeMajor(): string {
  const m = /^ARG NODE_VERSION=(\d+)/m.exec(read('Dockerfile'));
  if (!m) throw new Error('the Dockerfile has no ARG NODE_VERSION=<major>');
  return m[1];
}

const ignored = dockerIgnored(read('.dockerignore'));

/** Files under a context path that Docker would send (relative to the context), .dockerignore applied. */
function contextFiles(path: string): string[] {
  if (ignored(path)) return [];
  const abs = join(ROOT, path);
  if (!existsSync(abs)) throw new Error(`COPY ${path}: not in the build context`);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs).flatMap((name) => contextFiles(path === '.' ? name : `${path}/${name}`));
}

/** A copy of a stage's folder: hard links where the file system allows (node_modules is large), else a copy. */
function copyTree(from: string, to: string) {
  mkdirSync(dirname(to), { recursive: true });
  if (spawnSync('cp', ['-al', from, to]).status !== 0) cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

function jsonArray(text: string): string[] {
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`expected exec form ["…"], got ${text}`);
  return parsed.map(String);
}

/** Tools RUN sees first on PATH: npm (this npm's CLI on the image's node) and a chown that does nothing. */
function toolDir(opts: StageOptions): string {
  const bin = join(opts.workDir, 'image-tools');
  mkdirSync(bin, { recursive: true });
  const npmCli = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).stdout.trim();
  const cli = npmCli.endsWith('.js') ? npmCli : join(dirname(npmCli), '../lib/node_modules/npm/bin/npm-cli.js');
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec "${opts.node}" "${cli}" "$@"\n`);
  writeFileSync(join(bin, 'chown'), '#!/bin/sh\nexit 0\n');
  for (const f of ['npm', 'chown']) chmodSync(join(bin, f), 0o755);
  return bin;
}

export function imagePath(opts: StageOptions): string {
  return `${toolDir(opts)}:${dirname(opts.node)}:${process.env.PATH}`;
}

/**
 * A RUN command with its apt steps taken out: `apt-get update` and the apt lists clean-up are skipped (they
 * would change this machine, not an image), and `apt-get install … <packages>` becomes the packages to
 * check. The rest of the `&&` chain runs as written.
 */
export function splitAptSteps(command: string): { command: string; packages: string[] } {
  if (!/\bapt-get\b/.test(command)) return { command, packages: [] };
  const packages: string[] = [];
  const kept: string[] = [];
  for (const step of command.split('&&').map((s) => s.trim())) {
    if (/^apt-get\s+update\b/.test(step) || /^rm\s+-rf\s+\/var\/lib\/apt\/lists\//.test(step)) continue;
    const install = /^apt-get\s+install\s+(.*)$/.exec(step);
    if (install) {
      packages.push(...install[1].split(/\s+/).filter((a) => a && !a.startsWith('-')));
      continue;
    }
    // never let an apt step this parser did not recognise run on this machine
    if (/\bapt(-get)?\b/.test(step)) throw new Error(`RUN step the image stager cannot stand in for: ${step}`);
    kept.push(step);
  }
  return { command: kept.join(' && '), packages };
}

/** Debian packages the image installs that this machine lacks (dpkg's view). */
function missingPackages(packages: string[]): string[] {
  return packages.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout.trim() !== 'install ok installed');
}

/** Carries out one stage's instructions in `dir` (which already holds its base stage's result, if any). */
function runStage(name: string, dir: string, opts: StageOptions, stageDirs: Map<string, string>, image: StagedImage) {
  const stage = dockerfileStages().get(name);
  if (!stage) throw new Error(`no stage ${name} in the Dockerfile`);
  const nodeRoot = dirname(dirname(opts.node));
  for (const line of stage.lines) {
    const [instr] = line.split(/\s+/, 1);
    const rest = line.slice(instr.length).trim();
    switch (instr.toUpperCase()) {
      case 'WORKDIR':
        if (rest !== '/app') throw new Error(`WORKDIR ${rest}: this stager maps /app only`);
        break;
      case 'COPY': {
        const args = rest.split(/\s+/);
        const from = args.find((a) => a.startsWith('--from='))?.slice('--from='.length);
        const paths = args.filter((a) => !a.startsWith('--'));
        const dest = paths.pop()!;
        for (const src of paths) {
          if (from) {
            const srcDir = stageDirs.get(from);
            if (!srcDir || !src.startsWith('/app/')) throw new Error(`COPY --from=${from} ${src}: unknown stage or path`);
            copyTree(join(srcDir, src.slice('/app/'.length)), join(dir, dest));
            continue;
          }
          if (ignored(src)) throw new Error(`COPY ${src}: .dockerignore leaves it out of the build context, so docker build would fail`);
          const intoDir = dest.endsWith('/') || paths.length > 1;
          for (const file of contextFiles(src)) {
            const within = file === src ? file.split('/').pop()! : relative(src, file);
            const target = intoDir ? join(dir, dest, within) : file === src ? join(dir, dest) : join(dir, dest, within);
            mkdirSync(dirname(target), { recursive: true });
            cpSync(join(ROOT, file), target);
          }
        }
        break;
      }
      case 'RUN': {
        const apt = splitAptSteps(rest.replace(/^(--\S+\s+)+/, '').replace(/\/app\b/g, dir));
        if (apt.packages.length) {
          const missing = missingPackages(apt.packages);
          image.log += `$ RUN apt-get install ${apt.packages.join(' ')} (checked on this machine${missing.length ? `: missing ${missing.join(' ')}` : ''})\n`;
          if (missing.length) throw new Error(`stage ${name}: the image installs Debian packages this machine lacks: ${missing.join(' ')} (apt-get install -y ${missing.join(' ')})`);
        }
        const command = apt.command;
        if (!command) break;
        const res = spawnSync('sh', ['-c', command], {
          cwd: dir,
          encoding: 'utf8',
          env: {
            ...process.env,
            PATH: imagePath(opts),
            // Nothing is downloaded at test time: npm takes every package from the cache `npm ci` filled,
            // prebuild-install (which would fetch from the internet) is skipped, and node-gyp compiles
            // native modules against the headers shipped in the node package.
            npm_config_offline: 'true',
            npm_config_build_from_source: 'true',
            npm_config_nodedir: nodeRoot,
            npm_config_update_notifier: 'false',
            JOBS: 'max',
          },
          maxBuffer: 64 * 1024 * 1024,
        });
        image.log += `$ RUN ${command}\n${res.stdout}${res.stderr}`;
        if (res.status !== 0) throw new Error(`stage ${name}: RUN failed (${res.status}): ${command}\n${(res.stdout + res.stderr).slice(-4000)}`);
        break;
      }
      case 'ENV':
        for (const [, k, v] of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) image.env[k] = v;
        break;
      case 'USER':
        image.user = rest;
        break;
      case 'ENTRYPOINT':
        image.entrypoint = jsonArray(rest);
        break;
      case 'CMD':
        image.cmd = jsonArray(rest);
        break;
      case 'HEALTHCHECK': {
        const m = /\bCMD\s+(\[.*\])$/.exec(rest);
        if (!m) throw new Error(`HEALTHCHECK without an exec-form CMD: ${rest}`);
        image.healthcheck = jsonArray(m[1]);
        break;
      }
      case 'STOPSIGNAL':
      case 'EXPOSE':
      case 'ARG':
        break;
      default:
        throw new Error(`stage ${name}: this stager does not know ${instr}`);
    }
  }
}

function stageChain(target: string): string[] {
  const stages = dockerfileStages();
  const chain: string[] = [];
  for (let name: string | undefined = target; name && stages.has(name); name = stages.get(name)?.from) chain.unshift(name);
  return chain;
}

function emptyImage(dir: string): StagedImage {
  return { dir, env: {}, entrypoint: [], cmd: [], healthcheck: [], log: '' };
}

/**
 * The stages every target copies from (`COPY --from=…`), built once each. A deps stage is cached by the
 * hash of its instructions, the files it copies and the node version, so a second run skips `npm ci`.
 */
function buildSourceStages(opts: StageOptions, nodeVersion: string): Map<string, string> {
  const stages = dockerfileStages();
  const froms = new Set<string>();
  for (const s of stages.values()) for (const l of s.lines) for (const m of l.matchAll(/--from=(\S+)/g)) froms.add(m[1]);
  const dirs = new Map<string, string>();
  for (const name of froms) {
    const hash = createHash('sha256').update(nodeVersion);
    for (const line of stages.get(name)!.lines) {
      hash.update(line);
      if (/^COPY\s/i.test(line)) for (const src of line.split(/\s+/).slice(1, -1).filter((a) => !a.startsWith('--'))) {
        for (const f of contextFiles(src)) hash.update(f).update(readFileSync(join(ROOT, f)));
      }
    }
    const dir = join(opts.cacheDir, `${name}-${hash.digest('hex').slice(0, 16)}`);
    if (!existsSync(join(dir, '.complete'))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const image = emptyImage(dir);
      runStage(name, dir, opts, dirs, image);
      writeFileSync(join(dir, '.build.log'), image.log);
      writeFileSync(join(dir, '.complete'), '');
    }
    dirs.set(name, dir);
  }
  return dirs;
}

/** Builds each target into workDir/<target> and returns what Docker would run. */
export function stageImages(targets: string[], opts: StageOptions): Record<string, StagedImage> {
  const nodeVersion = spawnSync(opts.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const sources = buildSourceStages(opts, nodeVersion);
  const out: Record<string, StagedImage> = {};
  for (const target of targets) {
    const dir = join(opts.workDir, target);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const image = emptyImage(dir);
    for (const name of stageChain(target)) runStage(name, dir, opts, sources, image);
    out[target] = image;
  }
  return out;
}

/** Replaces the image's /app in a path or argument with the staged folder. */
export const inImage = (image: StagedImage, arg: string) => arg.replace(/^\/app(?=\/|$)/, image.dir);
