/** Globals of the AMI expiry display plugin; PLUGIN_SETTINGS in the portal's settings override them. */

/**
 * The image tag holding its expiry date (ISO, e.g. "2026-06-30"), read instead of EC2's own
 * DeprecationTime when set: for images whose expiry is kept in a tag rather than in EC2's
 * deprecation. Empty: DeprecationTime.
 */
export const AMI_EXPIRATION_TAG = "";

/**
 * The original's AMI_EXPIRY_LENGTH: when set (whole days), an image with neither a deprecation time
 * nor the tag expires that many days after its creation. Empty: such an image never expires.
 */
export const AMI_EXPIRY_DAYS = "";
