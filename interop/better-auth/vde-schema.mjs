// better-auth 1.7 on vde's auth tables: the modelName/fields mapping, nothing else.
//
// better-auth's models keep their names in code (user, session, account,
// verification, and the api-key plugin's apikey); this file tells it which vde
// table and column holds each field. Every field is listed, renamed or not, so
// the mapping reads as the whole contract. Use it as it is:
//
//   import { betterAuth } from "better-auth";
//   import { apiKey } from "@better-auth/api-key";
//   import { vdeModels, vdeApiKeySchema } from "./vde-schema.mjs";
//
//   export const auth = betterAuth({
//     database: new pg.Pool({ connectionString: process.env.DATABASE_URL }),
//     ...vdeModels,
//     plugins: [apiKey({ schema: vdeApiKeySchema })],
//   });
//
// To add your own options to a model, spread it: `session: { ...vdeModels.session,
// expiresIn: 3600 }`. The tables themselves come from vde's migrations
// (`piccolo vde migrate`), never from better-auth's `migrate`.

const stamps = { createdAt: "created_at", updatedAt: "updated_at" };

export const vdeModels = {
  user: {
    modelName: "vde_users",
    fields: {
      name: "name",
      email: "email",
      emailVerified: "email_verified",
      image: "image",
      ...stamps,
    },
  },
  session: {
    modelName: "vde_sessions",
    fields: {
      userId: "user_id",
      token: "token",
      expiresAt: "expires_at",
      ipAddress: "ip_address",
      userAgent: "user_agent",
      ...stamps,
    },
  },
  account: {
    modelName: "vde_accounts",
    fields: {
      userId: "user_id",
      accountId: "account_id",
      providerId: "provider_id",
      accessToken: "access_token",
      refreshToken: "refresh_token",
      accessTokenExpiresAt: "access_token_expires_at",
      refreshTokenExpiresAt: "refresh_token_expires_at",
      scope: "scope",
      idToken: "id_token",
      password: "password",
      ...stamps,
    },
  },
  verification: {
    modelName: "vde_verification_tokens",
    fields: {
      identifier: "identifier",
      value: "value",
      expiresAt: "expires_at",
      ...stamps,
    },
  },
};

// The api-key plugin's `schema` option: apiKey({ schema: vdeApiKeySchema }).
export const vdeApiKeySchema = {
  apikey: {
    modelName: "vde_api_keys",
    fields: {
      configId: "config_id",
      name: "name",
      start: "start",
      prefix: "prefix",
      key: "key",
      // better-auth 1.7 names the owner referenceId (a user, with the default
      // `references: "user"`); vde's column is user_id, a foreign key to vde_users.
      referenceId: "user_id",
      refillInterval: "refill_interval",
      refillAmount: "refill_amount",
      lastRefillAt: "last_refill_at",
      enabled: "enabled",
      rateLimitEnabled: "rate_limit_enabled",
      rateLimitTimeWindow: "rate_limit_time_window",
      rateLimitMax: "rate_limit_max",
      requestCount: "request_count",
      remaining: "remaining",
      lastRequest: "last_request",
      expiresAt: "expires_at",
      permissions: "permissions",
      metadata: "metadata",
      ...stamps,
    },
  },
};
