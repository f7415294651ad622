/**
 * Pricing files for tests: real files of other eras (tests/_data/; the 2017 one is
 * fixtures/instances.json) and files the portal refuses.
 */

const data = new URL("../_data/", import.meta.url).pathname;

/** The real files, by era. */
export const PRICING_FILES = {
	/** Before 2015-08: prices are plain strings (`"linux": "0.450"`), 27 types. */
	y2014: `${data}ec2instances-2014-01.json`,
	/** 88 types: byte for byte the shipped fixtures/instances.json. */
	y2017: new URL("../../fixtures/instances.json", import.meta.url).pathname,
	/** Three RDS instance classes in the shape of ec2instances.info's rds/instances.json (hand-made). */
	rds: `${data}rds-instances-sample.json`,
} as const;
