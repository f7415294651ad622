/** Globals of the header (single sign-on) auth plugin; PLUGIN_SETTINGS in the portal's settings override them. */

/** Header the reverse proxy sets to the authenticated username. */
export const AUTH_HEADER = "REMOTE_USER";
/**
 * Kerberos realms (`alice@EXAMPLE.COM`) and Windows domains (`EXAMPLE\alice`) taken off usernames,
 * comma-separated, in any case. A username of any other realm keeps it (it is someone else); one of
 * another Windows domain is refused. Empty: nothing is stripped.
 */
export const REALMS = "";
/** Optional headers with the user's profile; empty means "not sent". */
export const GIVEN_NAME_HEADER = "";
export const SURNAME_HEADER = "";
export const EMAIL_HEADER = "";
