/** Globals of the Route 53 DNS plugin; PLUGIN_SETTINGS in the portal's settings override them. */

/** Domain of the hosted zone the records go into, e.g. "mliy.example.com". Required. */
export const DOMAIN_NAME = "";
/** Hosted zone id; looked up by DOMAIN_NAME when empty. */
export const HOSTED_ZONE_ID = "";
/** Host name prefix: i-0abc123 becomes mliy-0abc123.<domain>. */
export const RECORD_PREFIX = "mliy-";
/** Record TTL in seconds. */
export const TTL = "300";
