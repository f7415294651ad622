DROP INDEX `instances_admin_type_idx`;--> statement-breakpoint
DROP INDEX `instances_state_idx`;--> statement-breakpoint
CREATE INDEX `instances_type_idx` ON `instances` (`archived`,`instance_type`,`id`);--> statement-breakpoint
CREATE INDEX `instances_name_idx` ON `instances` (`archived`,coalesce(nullif("name", ''), "id") COLLATE NOCASE,`id`);--> statement-breakpoint
CREATE INDEX `instances_state_idx` ON `instances` (`archived`,`state`,`id`);