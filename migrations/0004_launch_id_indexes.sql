CREATE INDEX `clusters_launch_idx` ON `clusters` (`launch_id`);--> statement-breakpoint
CREATE INDEX `instances_launch_idx` ON `instances` (`launch_id`);