import yargs, { type Argv } from 'yargs';
import { GitsignError } from '../errors';
import { errorLine, outputError, printErr, printOut } from './io';
import { DEFAULT_TUF_MIRROR } from '../trust/tufMirror';
import { printVersion } from './version';
import { COMPLETION_SCRIPTS, SHELLS, type Shell } from './completionScripts';
import { refCandidates } from './refCompletion';
import { optionsCheck, usageError } from './usage';

/** The human subcommands, defined once with yargs (help and shell completion come from here). */
export const IDENTITY_OPTIONS = {
  'certificate-identity': { type: 'string', describe: 'The identity expected in a valid Fulcio certificate (a SAN, exact)' },
  'certificate-identity-regexp': { type: 'string', describe: 'A Go (RE2) regular expression some SAN must match (unanchored)' },
  'certificate-oidc-issuer': { type: 'string', describe: 'The OIDC issuer expected in a valid Fulcio certificate (exact)' },
  'certificate-oidc-issuer-regexp': { type: 'string', describe: 'A Go (RE2) regular expression the OIDC issuer must match (unanchored)' },
  'certificate-github-workflow-trigger': { type: 'string', describe: 'Expected GitHub workflow trigger (ext 1.3.6.1.4.1.57264.1.2)' },
  'certificate-github-workflow-sha': { type: 'string', describe: 'Expected GitHub workflow SHA (ext ...1.3)' },
  'certificate-github-workflow-name': { type: 'string', describe: 'Expected GitHub workflow name (ext ...1.4)' },
  'certificate-github-workflow-repository': { type: 'string', describe: 'Expected GitHub workflow repository (ext ...1.5)' },
  'certificate-github-workflow-ref': { type: 'string', describe: 'Expected GitHub workflow ref (ext ...1.6)' },
  'insecure-ignore-sct': { type: 'boolean', default: false, describe: 'Do not require an embedded SCT in the certificate' },
  'insecure-ignore-tlog': { type: 'boolean', default: false, describe: 'Do not check the transparency log (signature, chain and SCT still are)' },
  offline: { type: 'boolean', default: false, describe: 'Make no network request (no TUF refresh, no Rekor search)' },
  'trusted-root': { type: 'string', describe: 'A Sigstore trusted_root.json to trust instead of the public-good root' },
  json: { type: 'boolean', default: false, describe: 'Print one JSON object per verified object' },
  quiet: { type: 'boolean', alias: 'q', default: false, describe: 'Print only what fails to verify (the exit status says whether all did)' },
  stdin: { type: 'boolean', default: false, describe: 'Also read object names from standard input, one per line' },
  // Hidden as in Go gitsign, where cosign marks them deprecated.
  sct: { type: 'string', hidden: true, describe: 'A detached SCT (RFC 6962 add-chain response JSON), for a certificate without an embedded one' },
  'ca-roots': { type: 'string', hidden: true, describe: 'Accepted and ignored, as by gitsign' },
  'ca-intermediates': { type: 'string', hidden: true, describe: 'Accepted and ignored, as by gitsign' },
} as const;

/** verify-attestation: no --stdin, nor the cosign leftovers. */
const {
  stdin: _stdin,
  sct: _sct,
  'ca-roots': _caRoots,
  'ca-intermediates': _caIntermediates,
  ...ATTESTATION_IDENTITY_OPTIONS
} = IDENTITY_OPTIONS;

/** gitsign verify's trust options, for the policy commands (the policy, not flags, says who may sign). */
const AUDIT_TRUST_OPTIONS = {
  'insecure-ignore-sct': IDENTITY_OPTIONS['insecure-ignore-sct'],
  'insecure-ignore-tlog': IDENTITY_OPTIONS['insecure-ignore-tlog'],
  offline: IDENTITY_OPTIONS.offline,
  'trusted-root': IDENTITY_OPTIONS['trusted-root'],
  cache: { type: 'boolean', default: true, describe: "Reuse signature checks kept in the repository's git directory and keep new ones (--no-cache checks every signature again)" },
} as const;

const OBJTYPE = { type: 'string', choices: ['commit', 'tree'] } as const;

/**
 * A --help example that pastes as it is: a comment saying what it does, then the command, each
 * further part on a line of its own after a `\` (yargs would break a long line anywhere).
 */
function example(what: string, ...command: string[]): [string, string] {
  return [`# ${what}\n${command.join(' \\\n')}`, ''];
}

/** The options of verify and verify-tag that take a value (the next word is not a revision). */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(
  Object.entries(IDENTITY_OPTIONS)
    .filter(([, o]) => o.type === 'string')
    .map(([name]) => `--${name}`),
);

/**
 * `gitsign completion [SHELL]`: the shell named, else the user's $SHELL (bash unless it is zsh, fish
 * or pwsh); undefined for other commands and for `completion --help`.
 */
function completionShell(argv: string[]): Shell | undefined {
  if (argv[0] !== 'completion' || argv.includes('--help') || argv.includes('-h')) return undefined;
  const named = argv[1];
  if (named === undefined) {
    const login = (process.env.SHELL ?? '').split('/').pop() ?? '';
    return login === 'pwsh' ? 'powershell' : (SHELLS.find((s) => s === login) ?? 'bash');
  }
  if (!(SHELLS as readonly string[]).includes(named)) throw new GitsignError('USAGE', `completion: unknown shell ${JSON.stringify(named)} (bash, zsh, fish or powershell)`);
  return named as Shell;
}

/**
 * yargs renders the whole help text of a command as it starts running it, kept for a showHelp()
 * from the handler, which ours never call (--help and usage errors render it afresh): 0.2-0.4 s of a
 * `gitsign audit`. A yargs without that internal is left as it is.
 */
function skipHelpCache(cli: Argv): void {
  const internal = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

export async function runCommands(argv: string[]): Promise<number> {
  // yargs (help, completion scripts) and the sandbox write through process.stdout: a reader that goes
  // away is an error with a message, not an unhandled 'error' event.
  process.stdout.on('error', (err) => {
    printErr(errorLine('gitsign: ', outputError(err).message));
    process.exit(1);
  });
  const shell = completionShell(argv);
  // A <Tab> on a revision of verify or verify-tag: the repository's refs (yargs knows only options).
  if (argv[0] === '--get-yargs-completions') {
    const refs = refCandidates(argv.slice(1), { valueOptions: VALUE_OPTIONS });
    if (refs) {
      printOut(...refs);
      return 0;
    }
  }
  let code = 0;
  const cli: Argv = yargs(argv)
    .scriptName('gitsign')
    .usage('gitsign: keyless git signing with Sigstore (gitsign-ts)\n\nGit calls it as gpg.x509.program; the commands below are for people.')
    .command(
      'verify [revisions..]',
      'Verify the signatures of commits (default HEAD); REV or A..B ranges',
      (y) =>
        y
          .options(IDENTITY_OPTIONS)
          .positional('revisions', { type: 'string', array: true })
          .example(...example('The last three commits were signed by you, logged in with GitHub', 'gitsign verify HEAD~3..HEAD', '--certificate-identity you@example.com', '--certificate-oidc-issuer https://github.com/login/oauth')),
      async (args) => {
        code = await (await import('./verifyCommand')).verifyCommand('commit', args);
      },
    )
    .command(
      'verify-tag <tags..>',
      'Verify the signatures of annotated tags',
      (y) =>
        y
          .options(IDENTITY_OPTIONS)
          .positional('tags', { type: 'string', array: true })
          .example(
            ...example(
              'A release tag made by a GitHub Actions workflow of acme/app',
              'gitsign verify-tag v1.2.0',
              "--certificate-identity-regexp '^https://github\\.com/acme/app/'",
              '--certificate-oidc-issuer https://token.actions.githubusercontent.com',
            ),
          ),
      async (args) => {
        code = await (await import('./verifyCommand')).verifyCommand('tag', args);
      },
    )
    .command(
      'verify-bundle <artifact>',
      'Verify a Sigstore bundle over a file or sha256:<hex> digest (the Sigstore conformance protocol)',
      (y) =>
        y
          .positional('artifact', { type: 'string', demandOption: true, describe: 'The signed file, or sha256:<hex> of it' })
          .example(
            ...example(
              'A file you signed with cosign sign-blob --bundle, logged in with Google',
              'gitsign verify-bundle --bundle app.tar.gz.sigstore.json app.tar.gz',
              '--certificate-identity you@example.com',
              '--certificate-oidc-issuer https://accounts.google.com',
            ),
          )
          .options({
            bundle: { type: 'string', demandOption: true, describe: 'The Sigstore bundle (v0.1 to v0.3) to verify' },
            'certificate-identity': { type: 'string', describe: 'The identity (a SAN, exact) the Fulcio certificate must have' },
            'certificate-identity-regexp': IDENTITY_OPTIONS['certificate-identity-regexp'],
            'certificate-oidc-issuer': { type: 'string', describe: 'The OIDC issuer (exact) the Fulcio certificate must name' },
            'certificate-oidc-issuer-regexp': IDENTITY_OPTIONS['certificate-oidc-issuer-regexp'],
            key: { type: 'string', describe: 'A PEM public key: the bundle is signed with this managed key, not a certificate' },
            'trusted-root': { type: 'string', describe: 'A Sigstore trusted_root.json to trust instead of the public-good root' },
            staging: { type: 'boolean', default: false, describe: "Sigstore's staging instance (needs --trusted-root: its root is not bundled)" },
            json: { ...IDENTITY_OPTIONS.json, describe: 'Print the result as one JSON object (the fields of gitsign verify --json)' },
          }),
      async (args) => {
        code = await (await import('./verifyBundleCommand')).verifyBundleCommand(args as unknown as import('./verifyBundleCommand').VerifyBundleArgs);
      },
    )
    .command(
      'attest',
      'Sign an in-toto attestation about HEAD (or its tree) and store it on refs/attestations/commits (or /trees)',
      (y) =>
        y
          .options({
            objtype: { ...OBJTYPE, default: 'commit', describe: 'What to attest: the commit HEAD, or its tree' },
            filepath: { type: 'string', alias: 'f', describe: 'The attestation file (a JSON object: the predicate)' },
            type: { type: 'string', describe: 'The predicate type URI' },
          })
          .example(...example('Attest HEAD with the JSON object in build.json', 'gitsign attest -f build.json --type https://example.com/build/v1')),
      async (args) => {
        code = await (await import('./attestCommand')).attestCommand(args as unknown as import('./attestCommand').AttestArgs);
      },
    )
    .command(
      'verify-attestation [revision]',
      'Verify the attestations stored for a commit (default HEAD) and its tree, and print their predicates',
      (y) =>
        y
          .positional('revision', { type: 'string', describe: 'A commit (its tree\'s attestations are verified too) or a tree' })
          .example(...example("Verify HEAD's attestations of that type (by its committer), and print them", 'gitsign verify-attestation --type https://example.com/build/v1 HEAD'))
          .options({
            ...ATTESTATION_IDENTITY_OPTIONS,
            offline: { ...IDENTITY_OPTIONS.offline, describe: "Refused: an attestation's certificate is only in its Rekor entry, so it cannot be verified offline" },
            'insecure-ignore-tlog': {
              ...IDENTITY_OPTIONS['insecure-ignore-tlog'],
              describe: "Take the certificate from the log without checking the entry (its SET and proof): no time is attested, every output says so",
            },
            type: { type: 'string', describe: 'Only attestations of this predicate type URI' },
            objtype: { ...OBJTYPE, describe: 'Only attestations of the commit, or only of its tree' },
            json: { ...IDENTITY_OPTIONS.json, describe: 'Print one JSON object per attestation' },
          }),
      async (args) => {
        code = await (await import('./verifyAttestationCommand')).verifyAttestationCommand(args as unknown as import('./verifyAttestationCommand').VerifyAttestationArgs);
      },
    )
    .command(
      'show [revision]',
      'Print the in-toto statement describing a commit or annotated tag and its signature (experimental, as gitsign)',
      (y) =>
        y
          .positional('revision', { type: 'string', describe: 'A commit or annotated tag (default HEAD)' })
          .options({ remote: { type: 'string', alias: 'r', default: 'origin', describe: 'The git remote whose URL names the subject' } })
          .example(...example('The statement for an annotated tag', 'gitsign show v1.0.0')),
      async (args) => {
        code = await (await import('./showCommand')).showCommand(args as unknown as import('./showCommand').ShowArgs);
      },
    )
    .command(
      'sandbox <action>',
      'Run a local Sigstore (OIDC issuer, Fulcio, Rekor, TSA, TUF) on 127.0.0.1: `up` serves it, `status` and `down`, `token` prints an ID token, `rotate-tuf` rotates its TUF keys',
      (y) =>
        y
          .positional('action', {
            type: 'string',
            choices: ['up', 'status', 'token', 'down', 'rotate-tuf'],
            describe:
              'up: start (in the foreground; --detach: in the background, returning once it answers); status: is it running, where (exit 0 running, 1 not); token: print a fresh ID token (it must be running); down: stop it and wait until it is gone; rotate-tuf: new TUF keys and root version',
          })
          .options({
            dir: { type: 'string', describe: 'State directory (keys, log, trusted_root.json, env): --dir, else $GITSIGN_SANDBOX_DIR (DIR/env sets it), else $XDG_STATE_HOME/gitsign-ts/sandbox' },
            detach: { type: 'boolean', describe: '(up) Run in the background; return once every service answers, print the env file\'s path (exit non-zero with the reason if it cannot start)' },
            port: { type: 'number', describe: "(up) TCP port on 127.0.0.1 for all services (default: the previous run's port if free, else any free port; 0: any free port)" },
            subject: { type: 'string', describe: "The identity (email, or a URI subject) its logins and `token` sign in (up: kept for later runs and `token`; default: the previous run's, else sandbox-user@example.com)" },
            'issuer-claims': { type: 'string', describe: '(up, token) JSON object of extra ID token claims (override any claim)' },
            fault: { type: 'string', describe: '(up) Hostile mode: answer wrongly on purpose, KIND[,KIND] or SERVICE:KIND (repeatable; an unknown KIND lists them)' },
            json: { type: 'boolean', describe: '(status) Print the status as one JSON object' },
            'detached-child': { type: 'boolean', hidden: true },
          })
          .example(...example('Start it in the background, then load its settings', 'gitsign sandbox up --detach --dir /tmp/sigstore', '--subject you@example.com && . /tmp/sigstore/env'))
          .example(...example('Sign without a login: an ID token of its issuer', 'export SIGSTORE_ID_TOKEN="$(gitsign sandbox token)"'))
          .example(...example('Stop the sandbox of $GITSIGN_SANDBOX_DIR', 'gitsign sandbox down')),
      async (args) => {
        code = await (await import('../sandbox/command')).sandboxCommand(args as unknown as import('../sandbox/command').SandboxArgs);
      },
    )
    .command(
      'doctor',
      'Check that signing and verifying work here: git settings, trust root, Sigstore services, clock, token, cache; each problem with its fix',
      (y) =>
        y.options({
          json: { type: 'boolean', default: false, describe: 'Print the report as one JSON object (schema in gitsign(1))' },
          offline: { type: 'boolean', default: false, describe: 'Make no network request (no service, clock or refresh check)' },
        })
          .example(...example('Check everything, the services and the clock included', 'gitsign doctor')),
      async (args) => {
        code = await (await import('../doctor/doctor')).doctorCommand(args as unknown as import('../doctor/doctor').DoctorArgs);
      },
    )
    .command(
      'initialize',
      'Trust a TUF repository (default: the public-good one) from a root.json and fetch its trusted root now; later calls use it',
      (y) =>
        y.options({
          mirror: { type: 'string', default: DEFAULT_TUF_MIRROR, describe: 'The TUF repository base URL (https, or http to this machine)' },
          root: { type: 'string', describe: "Path or URL of the repository's trusted initial root.json (default: the one shipped for the public-good mirror)" },
        })
          .example(...example("Trust a private Sigstore's TUF repository", 'gitsign initialize --mirror https://tuf.example.com --root root.json')),
      async (args) => {
        code = await (await import('./initializeCommand')).initializeCommand(args as unknown as import('./initializeCommand').InitializeArgs);
      },
    )
    .command(
      'policy',
      'Check or start the repository signing policy .gitsign/policy.yaml (gitsign-policy(5))',
      (y) =>
        y
          .command(
            'check [file]',
            'Check a policy file (default: the repository\'s .gitsign/policy.yaml); every problem with its line and column',
            (c) => c.positional('file', { type: 'string', describe: 'The policy file' }),
            async (args) => {
              code = await (await import('./policyCommand')).policyCheckCommand(args as unknown as import('./policyCommand').PolicyCheckArgs);
            },
          )
          .command(
            'init [range]',
            'Write a starting policy from the verified signers of RANGE (default HEAD): one principal per identity',
            (c) =>
              c.positional('range', { type: 'string', describe: 'A revision or range whose signers become principals' }).options({
                output: { type: 'string', alias: 'o', describe: "Where to write it (default: the repository's .gitsign/policy.yaml; - for standard output)" },
                force: { type: 'boolean', default: false, describe: 'Replace an existing file' },
                ...AUDIT_TRUST_OPTIONS,
              }),
            async (args) => {
              code = await (await import('./policyCommand')).policyInitCommand(args as unknown as import('./policyCommand').PolicyInitArgs);
            },
          )
          .demandCommand(1, 'name what to do: gitsign policy check [FILE] or gitsign policy init [RANGE]')
          .example(...example('Start a policy from the signers of main, then check it', 'gitsign policy init main && gitsign policy check')),
    )
    .command(
      'audit [range]',
      "Judge every commit and annotated tag of RANGE by the repository's signing policy, from a trust root outside it (exit 0 clean, 1 violations, 2 could not run)",
      (y) =>
        y.positional('range', { type: 'string', describe: 'BASE..TIP (the base\'s policy is the trust root), or a revision with --trust-root or --policy (default HEAD)' }).options({
          'trust-root': { type: 'string', describe: 'The commit whose .gitsign/policy.yaml is trusted (default: git config gitsign.audit.trustRoot, else the range\'s base)' },
          policy: { type: 'string', describe: 'Judge every commit by this policy file from outside the repository instead' },
          ref: { type: 'string', describe: "The ref the history is audited for, which rules' refs match (default: the tip's ref)" },
          'keep-going': { type: 'boolean', default: false, describe: 'Report an object that could not be checked (missing, a failed worker) as error and judge the rest' },
          json: { type: 'boolean', default: false, describe: 'Print one JSON object per commit and tag, then a summary object' },
          html: { type: 'string', nargs: 1, describe: 'Also write the report to FILE as one self-contained HTML page (no script, no outside request)' },
          ...AUDIT_TRUST_OPTIONS,
        })
          .example(...example("Judge a pull request's commits by the policy of its base", 'gitsign audit origin/main..HEAD')),
      async (args) => {
        code = await (await import('./auditCommand')).auditCommand(args as unknown as import('./auditCommand').AuditArgs);
      },
    )
    // Hidden from --help: run by install/hooks/pre-receive, not by people (gitsign(1), SERVER HOOK).
    .command(
      'hook <kind>',
      false,
      (y) => y.positional('kind', { type: 'string', describe: 'pre-receive' }).options({ ...AUDIT_TRUST_OPTIONS }),
      async (args) => {
        code = await (await import('./hookCommand')).hookCommand(args as unknown as import('./hookCommand').HookArgs);
      },
    )
    .command('debug', false, (y) =>
      y
        .command('token', 'Print the OIDC token fetched by gitsign', {}, async () => {
          code = await (await import('./debugCommand')).debugTokenCommand();
        })
        .demandCommand(1, 'name what to debug: gitsign debug token'),
    )
    .command(
      'version',
      'Print the version, environment and parsed configuration',
      (y) => y.example(...example('What runs, and with which settings', 'gitsign version')),
      () => {
        code = printVersion();
      },
    )
    .command(
      'completion [shell]',
      'Print a shell completion script: `gitsign completion bash|zsh|fish|powershell` (default: for $SHELL)',
      (y) =>
        y
          .positional('shell', { type: 'string', choices: SHELLS })
          .example(...example('Install the bash completion for your user', 'gitsign completion bash', '> ~/.local/share/bash-completion/completions/gitsign')),
      () => {
        // Ours, not yargs' templates: they also complete gitsign-credential-cache (src/cli/completionScripts.ts).
        if (shell) printOut(...COMPLETION_SCRIPTS[shell].replace(/\n$/, '').split('\n'));
      },
    )
    // `gitsign --version` never reaches yargs (src/cli/main.ts runs `version`): listed here, refused after a command, as in gitsign.
    .version(false)
    .option('version', { type: 'boolean', global: false, describe: 'Print the version, environment and parsed configuration (as `gitsign version`)' })
    .help()
    .alias('h', 'help')
    .strict()
    // Usage mistakes in our words (./usage): options are checked before yargs validates, its messages
    // (English, whatever the locale) are replaced. Thrown, not printed: yargs would otherwise go on to
    // run the command with the invalid arguments.
    .detectLocale(false)
    .middleware(optionsCheck(argv), true)
    .fail((msg, err) => {
      if (err) throw err;
      throw usageError(msg, argv);
    })
    .wrap(Math.min(110, process.stdout.columns || 100));
  skipHelpCache(cli);
  await cli.parseAsync();
  return code;
}
