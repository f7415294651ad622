/** The id patterns of the machines the portal manages, bounded, checked before any lookup. */

/** An EC2 instance id: the seed's pattern (`i-\w+`), bounded. */
export const INSTANCE_ID = /^i-[0-9a-zA-Z]{1,32}$/;

/** An EMR cluster id (`j-…`), bounded. */
export const CLUSTER_ID = /^j-[0-9A-Za-z]{1,32}$/;
