/**
 * Globals of the OpenID Connect auth plugin; PLUGIN_SETTINGS in the portal's settings override them
 * (the README's "OpenID Connect sign-in" lists them). The portal's redirect URI at the provider is
 * `PUBLIC_URL/sign-in/callback`, its post-logout redirect URI `PUBLIC_URL/signed-out`.
 */

/** The provider's issuer URL; its `/.well-known/openid-configuration` is read on the first sign-in. */
export const OIDC_ISSUER = "";
/** The portal's client id at the provider. */
export const OIDC_CLIENT_ID = "";
/** The client's secret (a confidential client, `client_secret_basic`); empty: a public client (PKCE only). */
export const OIDC_CLIENT_SECRET = "";
/** The scopes asked for, space-separated. */
export const OIDC_SCOPES = "openid profile email";
/** The ID token claims the user's username, names, email and directory groups are read from. */
export const OIDC_USERNAME_CLAIM = "preferred_username";
export const OIDC_FIRST_NAME_CLAIM = "given_name";
export const OIDC_LAST_NAME_CLAIM = "family_name";
export const OIDC_EMAIL_CLAIM = "email";
/**
 * The claim with the user's groups: a list of names (or one name, or names separated by commas),
 * matched to groups' directory names as the directory plugins' DNs are. Empty: directory
 * memberships are left as they are.
 */
export const OIDC_GROUPS_CLAIM = "groups";
/** A group (as the groups claim names it) whose members are portal admins; empty grants nobody. */
export const OIDC_ADMIN_GROUP = "";
/** A group whose members are global managers (they manage every group); empty grants nobody. */
export const OIDC_MANAGER_GROUP = "";
