/** Globals of the local development auth plugin; PLUGIN_SETTINGS in the portal's settings override them. */

/** Header a developer (or a test) may set to act as another user. */
export const AUTH_HEADER = "X-Dev-User";
/** Who you are when no header is sent. */
export const DEV_USER = "developer";
