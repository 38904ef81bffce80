// Fournisseur OpenID Connect de test (npm oidc-provider), pour les tests d'intégration.
//
//   node provider.mjs --port 0 --config config.json
//
// (ou la configuration JSON dans la variable OIDC_PROVIDER_CONFIG). Quand le serveur écoute,
// une seule ligne est écrite sur stdout : {"issuer":"http://127.0.0.1:<port>"}.
// Le processus s'arrête quand son entrée standard se ferme (le test qui l'a lancé est mort).
//
// Configuration :
//   { "clients": [{ "client_id", "client_secret", "redirect_uris": [...],
//                   "post_logout_redirect_uris": [...], ...autres métadonnées de client }],
//     "users": { "<login>": { "sub", "given_name", "family_name", "email", "birthdate",
//                             "preferred_username", ...autres claims } },
//     "default_user": "<login>",
//     "acr_values": ["eidas1"],
//     "claims": { "<scope>": ["claim", ...] }      (facultatif, remplace le défaut ci-dessous)
//     "conform_id_token_claims": true               (facultatif ; false = les claims des scopes
//                                                    vont aussi dans l'ID token) }
//
// Pas de formulaire : la route d'interaction connecte l'utilisateur nommé par le paramètre
// login_hint de la demande d'autorisation (s'il est configuré), sinon default_user, et accorde
// le consentement d'office. PKCE (S256) est obligatoire ; client_secret_basic et
// client_secret_post sont acceptés ; tout est en mémoire.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

function parseArgs(argv) {
  const args = { port: 0, config: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--port') {
      args.port = Number(argv[(i += 1)]);
    } else if (arg.startsWith('--port=')) {
      args.port = Number(arg.slice('--port='.length));
    } else if (arg === '--config') {
      args.config = argv[(i += 1)];
    } else if (arg.startsWith('--config=')) {
      args.config = arg.slice('--config='.length);
    } else {
      throw new Error(`argument inconnu : ${arg}`);
    }
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new Error('--port attend un entier (0 = port libre)');
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const config = JSON.parse(
  args.config !== undefined
    ? fs.readFileSync(args.config, 'utf8')
    : (process.env.OIDC_PROVIDER_CONFIG ?? '{}'),
);
const users = config.users ?? {};
const usersBySub = new Map(
  Object.entries(users).map(([login, user]) => [String(user.sub ?? login), { login, ...user }]),
);
const acrValues = config.acr_values ?? [];
if (config.default_user !== undefined && !(config.default_user in users)) {
  throw new Error(`default_user ${config.default_user} n'est pas dans users`);
}

// The test runner holds our stdin: when it goes away (even killed), so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(args.port, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test' };

const htmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  })),
  responseTypes: ['code'],
  jwks: { keys: [signingKey] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
    long: { httpOnly: true, sameSite: 'lax', secure: false },
    short: { httpOnly: true, sameSite: 'lax', secure: false },
  },
  pkce: { required: () => true },
  acrValues,
  claims: config.claims ?? {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'preferred_username', 'birthdate'],
    email: ['email', 'email_verified'],
    birthdate: ['birthdate'],
    acr: null,
    sid: null,
    auth_time: null,
    iss: null,
  },
  conformIdTokenClaims: config.conform_id_token_claims ?? true,
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Déconnexion</title></head>
<body><h1>Se déconnecter de ${htmlEscape(ctx.host)} ?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Oui</button>
<button type="submit" form="op.logoutForm">Non</button></body></html>`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Déconnecté</title></head><body>Déconnecté.</body></html>';
      },
    },
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(ctx, sub) {
    const user = usersBySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { login, ...claims } = user;
        return { email_verified: claims.email !== undefined ? true : undefined, ...claims, sub };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.proxy = false;

function chooseUser(params) {
  const hint = params.login_hint;
  if (hint !== undefined && hint in users) return users[hint];
  if (hint !== undefined) {
    const bySub = usersBySub.get(hint);
    if (bySub) return bySub;
  }
  if (config.default_user !== undefined) return users[config.default_user];
  const first = Object.values(users)[0];
  if (first) return first;
  throw new Error('aucun utilisateur configuré');
}

function chooseAcr(params) {
  const requested = (params.acr_values ?? '').split(' ').filter(Boolean);
  return requested.find((acr) => acrValues.includes(acr)) ?? acrValues[0];
}

// Automatic interactions: login, then consent (each is one 303 back to the provider).
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  let result;
  if (prompt.name === 'login') {
    const user = chooseUser(params);
    const acr = chooseAcr(params);
    result = { login: { accountId: String(user.sub), ...(acr ? { acr } : {}), amr: ['pwd'] } };
  } else if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    if (missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    result = { error: 'access_denied', error_description: `prompt ${prompt.name} non géré` };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.method === 'GET' && /^\/interaction\/[^/?]+(\?|$)/.test(req.url)) {
    interaction(req, res).catch((err) => {
      if (!res.headersSent) {
        res.statusCode = 400;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: err.name, error_description: err.message }));
      } else {
        res.end();
      }
    });
  } else {
    callback(req, res);
  }
});

provider.on('server_error', (ctx, err) => {
  process.stderr.write(`oidc-provider server_error: ${err.stack}\n`);
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
