'use strict';
// The GitHub Action's helper (plain Node, no dependencies):
//   node report.js event
//     prints "BASE HEAD" from $GITHUB_EVENT_PATH: pull_request.base.sha and .head.sha, or a push's
//     before and after (nothing for other events, or a push that creates a branch);
//   node report.js summary JSONFILE ERRFILE EXITCODE RANGE
//     writes `gitsign audit --json`'s result to $GITHUB_STEP_SUMMARY as a markdown table (failures
//     first), clean=true|false to $GITHUB_OUTPUT, and the failures to the log.
// Everything from commits, certificates and tags is hostile text: in the summary every character
// outside a small safe set becomes an HTML character reference (so it can neither end a table cell
// nor start markdown or HTML), controls become visible \uXXXX escapes; in the log, workflow commands
// are stopped while it is printed (a line could otherwise start with "::" and command the runner).
const fs = require('node:fs');
const crypto = require('node:crypto');

const OID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
const MAX_ROWS = 500;
const MAX_CELL = 300;
/** Bytes of the JSON output read at most (the step summary itself is limited to 1 MiB). */
const MAX_JSON = 64 * 1024 * 1024;

function event() {
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path) return '';
  let e;
  try {
    e = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch {
    return '';
  }
  const pr = e && e.pull_request;
  const pair = pr ? [pr.base && pr.base.sha, pr.head && pr.head.sha] : [e && e.before, e && e.after];
  return pair.every((s) => typeof s === 'string' && OID.test(s) && !/^0+$/.test(s)) ? pair.join(' ') : '';
}

/** Controls, format characters and separators, shown as escapes (as gitsign does on a terminal). */
function visible(text) {
  return String(text).replace(/(?!\t)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')));
}

/** One table cell (or line) of markdown that shows the text and nothing else. */
function cell(text, max = MAX_CELL) {
  let s = visible(text);
  if (s.length > max) s = `${s.slice(0, max)}...`;
  return s.replace(/[^A-Za-z0-9 .,=+-]/gu, (c) => `&#${c.codePointAt(0)};`);
}

function readLines(file) {
  let text = '';
  try {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(Math.min(fs.fstatSync(fd).size, MAX_JSON));
    fs.readSync(fd, buf, 0, buf.length, 0);
    fs.closeSync(fd);
    text = buf.toString('utf8');
  } catch {
    return [];
  }
  const out = [];
  for (const line of text.split('\n')) {
    try {
      const o = JSON.parse(line);
      if (o && typeof o === 'object') out.push(o);
    } catch {
      /* not a line of gitsign's JSON */
    }
  }
  return out;
}

const FAILING = new Set(['violation', 'unsigned', 'revoked', 'error']);
const ICON = { ok: '✅', endorsed: '☑️', violation: '❌', unsigned: '❌', revoked: '⛔', error: '⚠️' };

function row(e) {
  const what = e.type === 'tag' ? `tag ${e.name || String(e.object).slice(0, 12)}` : String(e.object).slice(0, 12);
  const signer = e.signer && Array.isArray(e.signer.identities) && e.signer.identities.length ? e.signer.identities[0] : '-';
  const status = ICON[e.status] ? `${ICON[e.status]} ${cell(e.status)}` : cell(e.status);
  return `| ${status} | ${cell(what)} | ${cell(signer)} | ${cell(e.reason)} | ${cell(e.rule || '-')} | ${cell(e.message)} |`;
}

const counted = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function summary([jsonFile, errFile, code, range]) {
  const rc = Number(code);
  const objects = readLines(jsonFile);
  const entries = objects.filter((o) => o.type === 'commit' || o.type === 'tag');
  const total = objects.find((o) => o.type === 'summary');
  const failing = entries.filter((e) => FAILING.has(e.status));
  const md = [];
  if (rc === 2 || !total) {
    md.push('## gitsign-ts audit could not run', '');
    let err = '';
    try {
      err = fs.readFileSync(errFile, 'utf8');
    } catch {
      /* nothing said */
    }
    md.push(...err.split('\n').filter(Boolean).slice(0, 20).map((l) => `${cell(l, 1000)}<br>`));
  } else {
    const what = `${counted(entries.filter((e) => e.type === 'commit').length, 'commit')} and ${counted(entries.filter((e) => e.type === 'tag').length, 'tag')} of ${cell(range, 200)}`;
    md.push(failing.length ? `## gitsign-ts audit: ❌ ${failing.length} of ${what} break the signing policy` : `## gitsign-ts audit: ✅ ${what}, all authorized`, '');
    if (total.trustRoot) md.push(`Trust root: ${cell(total.trustRoot.origin)}, policy serial ${cell(total.trustRoot.serial)}.`, '');
    const rows = [...failing, ...entries.filter((e) => !FAILING.has(e.status))];
    if (rows.length) {
      md.push('| Status | Object | Signer | Reason | Rule | Details |', '|---|---|---|---|---|---|', ...rows.slice(0, MAX_ROWS).map(row));
      if (rows.length > MAX_ROWS) md.push('', `... and ${rows.length - MAX_ROWS} more (the JSON output has them all).`);
    }
  }
  fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${md.join('\n')}\n`);
  if (process.env.GITHUB_OUTPUT) fs.appendFileSync(process.env.GITHUB_OUTPUT, `clean=${rc === 0 && total && total.clean === true ? 'true' : 'false'}\n`);

  // The log: no workflow command can start while the audit's text is printed.
  const token = crypto.randomBytes(16).toString('hex');
  const log = [`::stop-commands::${token}`];
  if (rc === 2 || !total) {
    try {
      log.push(...fs.readFileSync(errFile, 'utf8').split('\n').filter(Boolean).slice(0, 50).map(visible));
    } catch {
      /* nothing said */
    }
  } else {
    log.push(...failing.map((e) => visible(`${e.status} ${e.type === 'tag' ? `tag ${e.name}` : e.object} ${e.reason}: ${e.message}`)));
    log.push(`gitsign-ts audit: ${failing.length} of ${entries.length} objects break the signing policy`);
  }
  log.push(`::${token}::`);
  if (rc === 1) log.push(`::error title=gitsign-ts audit::${failing.length} ${failing.length === 1 ? 'commit or tag breaks' : 'commits or tags break'} the signing policy: see the job summary`);
  else if (rc !== 0) log.push('::error title=gitsign-ts audit::the audit could not run: see the log');
  process.stdout.write(`${log.join('\n')}\n`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'event') process.stdout.write(event());
else if (mode === 'summary') summary(args);
else {
  process.stderr.write('usage: node report.js event | summary JSONFILE ERRFILE EXITCODE RANGE\n');
  process.exitCode = 2;
}
