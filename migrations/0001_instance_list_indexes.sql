DROP INDEX `instances_owner_idx`;--> statement-breakpoint
CREATE INDEX `instances_listing_idx` ON `instances` (`archived`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `instances_owner_idx` ON `instances` (`owner_id`,`archived`,`created_at`);