// Drives better-auth 1.7's server API (auth.api.*) on a vde database, one step
// at a time, for tests/interop/test_better_auth.py.
//
//   DATABASE_URL=postgresql://... BETTER_AUTH_SECRET=... node flows.mjs
//
// better-auth is configured as a deployment would be: vde-schema.mjs (the
// mapping, nothing else), e-mail and password sign-in, the api-key and bearer
// plugins, and its runtime schema validation on (the default). Each line read from stdin is
// a JSON step, {"step": "signUp", ...arguments}; each answer is one stdout line
// "@@vde " + JSON: {"ok": true, ...} or {"ok": false, "status", "code",
// "message"}. Other output (better-auth's log) is left as it is. The caller
// checks vde's rows between steps; the script keeps cookies, keys and reset
// tokens between them. {"step": "exit"} (or the end of stdin) ends it.

import readline from "node:readline";

import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { bearer } from "better-auth/plugins/bearer";
import pg from "pg";

import { vdeApiKeySchema, vdeModels } from "./vde-schema.mjs";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("flows.mjs: set DATABASE_URL to a migrated vde database");
  process.exit(2);
}
// The secret session cookies are signed with; the Python side checks them with it.
const secret = process.env.BETTER_AUTH_SECRET;
if (!secret) {
  console.error("flows.mjs: set BETTER_AUTH_SECRET (the tests pass a fixed one)");
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: url, max: 4 });
/** Reset links better-auth "sends", newest last. */
const resetTokens = [];

const options = {
  database: pool,
  secret,
  baseURL: "http://localhost:3000",
  emailAndPassword: {
    enabled: true,
    sendResetPassword: async ({ token }) => {
      resetTokens.push(token);
    },
  },
  ...vdeModels,
  plugins: [apiKey({ schema: vdeApiKeySchema }), bearer()],
};
const auth = betterAuth(options);

/** Cookies by name, as a browser would keep them. */
const jar = new Map();

function keepCookies(headers) {
  for (const line of headers?.getSetCookie?.() ?? []) {
    const [pair, ...attributes] = line.split(";");
    const [name, ...rest] = pair.split("=");
    const gone = attributes.some((a) => a.trim().toLowerCase() === "max-age=0");
    if (gone) jar.delete(name.trim());
    else jar.set(name.trim(), rest.join("="));
  }
}

function cookieHeaders(cookies = jar) {
  const header = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  return new Headers(header ? { cookie: header } : {});
}

/** A session's cookies, saved under a name so a step can act as that session. */
const sessions = new Map();

function headersOf(name) {
  if (!name) return cookieHeaders();
  const saved = sessions.get(name);
  if (!saved) throw new Error(`no saved session named ${name}`);
  return cookieHeaders(saved);
}

const keys = new Map();

/** What a sign-in hands the client: its Set-Cookie lines and the bearer token. */
function handedOut(headers) {
  return {
    setCookie: headers?.getSetCookie?.() ?? [],
    authToken: headers?.get?.("set-auth-token") ?? null,
  };
}

const steps = {
  async signUp({ name, email, password }) {
    const { headers, response } = await auth.api.signUpEmail({
      body: { name, email, password },
      returnHeaders: true,
    });
    keepCookies(headers);
    return {
      userId: response.user.id,
      token: response.token,
      user: response.user,
      ...handedOut(headers),
    };
  },

  async signIn({ email, password, saveAs }) {
    const { headers, response } = await auth.api.signInEmail({
      body: { email, password },
      returnHeaders: true,
    });
    keepCookies(headers);
    if (saveAs) sessions.set(saveAs, new Map(jar));
    return { userId: response.user.id, token: response.token, ...handedOut(headers) };
  },

  async getSession({ as }) {
    const session = await auth.api.getSession({ headers: headersOf(as) });
    return { session: session?.session ?? null, user: session?.user ?? null };
  },

  async getSessionFrom({ cookie, authorization }) {
    // A request carrying exactly these headers (a tampered cookie, a bearer token).
    const headers = new Headers();
    if (cookie) headers.set("cookie", cookie);
    if (authorization) headers.set("authorization", authorization);
    const session = await auth.api.getSession({
      headers,
      query: { disableRefresh: true },
    });
    return { session: session?.session ?? null, user: session?.user ?? null };
  },

  async updateUser({ as, ...body }) {
    const response = await auth.api.updateUser({ headers: headersOf(as), body });
    return { response };
  },

  async changePassword({ as, currentPassword, newPassword, saveAs }) {
    const { headers, response } = await auth.api.changePassword({
      headers: headersOf(as),
      body: { currentPassword, newPassword, revokeOtherSessions: true },
      returnHeaders: true,
    });
    keepCookies(headers);
    if (saveAs) sessions.set(saveAs, new Map(jar));
    return { token: response.token, userId: response.user.id };
  },

  async createApiKey({ as, userId, save, ...body }) {
    // Given userId: server-side, no session. Else the signed-in user's own key.
    const response = await auth.api.createApiKey(
      userId ? { body: { ...body, userId } } : { headers: headersOf(as), body },
    );
    keys.set(save, response.key);
    const { key, ...rest } = response;
    return { key, apiKey: rest };
  },

  async verifyApiKey({ keyName, key, permissions }) {
    const presented = keyName ? keys.get(keyName) : key;
    const response = await auth.api.verifyApiKey({
      body: permissions ? { key: presented, permissions } : { key: presented },
    });
    return { valid: response.valid, error: response.error, apiKey: response.key };
  },

  async listApiKeys({ as }) {
    const response = await auth.api.listApiKeys({ headers: headersOf(as) });
    return { apiKeys: response.apiKeys ?? response };
  },

  async deleteApiKey({ as, keyId }) {
    const response = await auth.api.deleteApiKey({
      headers: headersOf(as),
      body: { keyId },
    });
    return { response };
  },

  async requestPasswordReset({ email }) {
    const before = resetTokens.length;
    const response = await auth.api.requestPasswordReset({
      body: { email, redirectTo: "http://localhost:3000/reset" },
    });
    return { response, token: resetTokens.length > before ? resetTokens.at(-1) : null };
  },

  async resetPassword({ token, newPassword }) {
    const response = await auth.api.resetPassword({ body: { token, newPassword } });
    return { response };
  },

  async signOut({ as }) {
    const { headers, response } = await auth.api.signOut({
      headers: headersOf(as),
      returnHeaders: true,
    });
    keepCookies(headers);
    return { response };
  },

  async http({ method, path, body }) {
    // The same endpoint through better-auth's HTTP handler, as a browser calls it.
    const response = await auth.handler(
      new Request(new URL(path, options.baseURL), {
        method,
        headers: { "content-type": "application/json", origin: options.baseURL },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    return { status: response.status, body: await response.text() };
  },

  async expectedSchemaSql() {
    // What better-auth would create itself (`auth migrate`) for this mapping,
    // compiled against this database (empty: every table is new), not run.
    const { compileMigrations } = await getMigrations(options);
    return { sql: await compileMigrations() };
  },
};

function failure(error) {
  return {
    ok: false,
    status: error?.status ?? null,
    statusCode: error?.statusCode ?? null,
    code: error?.body?.code ?? error?.code ?? null,
    message: error?.body?.message ?? error?.message ?? String(error),
    name: error?.constructor?.name ?? null,
    cause: error?.cause ? String(error.cause?.message ?? error.cause) : null,
  };
}

function answer(value) {
  process.stdout.write(`@@vde ${JSON.stringify(value)}\n`);
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { step, ...args } = JSON.parse(line);
  if (step === "exit") break;
  const run = steps[step];
  if (!run) {
    answer({ ok: false, message: `unknown step ${step}` });
    continue;
  }
  try {
    answer({ ok: true, ...(await run(args)) });
  } catch (error) {
    answer(failure(error));
  }
}
await pool.end();
