/**
 * Globals of the LDAP-attribute-header auth plugin; PLUGIN_SETTINGS in the portal's settings
 * override them. The header names follow Apache mod_authnz_ldap's AUTHENTICATE_/AUTHORIZE_ variables.
 */

export const AUTH_HEADER = "REMOTE_USER";
/**
 * Kerberos realms (`alice@EXAMPLE.COM`) and Windows domains (`EXAMPLE\alice`) taken off usernames,
 * comma-separated, in any case. A username of any other realm keeps it (it is someone else); one of
 * another Windows domain is refused. Empty: nothing is stripped.
 */
export const REALMS = "";
export const GIVEN_NAME_HEADER = "AUTHENTICATE_GIVENNAME";
export const SURNAME_HEADER = "AUTHENTICATE_SN";
export const EMAIL_HEADER = "AUTHENTICATE_MAIL";
/** Header with the user's directory groups (full DNs). */
export const MEMBER_OF_HEADER = "AUTHORIZE_MEMBEROF";
/** Separator between DNs in MEMBER_OF_HEADER (DNs themselves contain commas). */
export const MEMBER_OF_SEPARATOR = ";";
/**
 * Full DN of the directory group whose members are portal admins; empty grants nobody. With this or
 * LDAP_MANAGER_GROUP set, the portal starts only with PROXY_SECRET or PROXY_SECRET_WAIVED.
 */
export const LDAP_ADMIN_GROUP = "";
/**
 * Full DN of the directory group whose members are global managers (they manage every group);
 * empty grants nobody. A manager of some groups only comes from each group's "Manager directory
 * group" (Admin → Groups), matched against the same memberOf DNs.
 */
export const LDAP_MANAGER_GROUP = "";
