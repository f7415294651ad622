ALTER TABLE `instances` ADD `controls_locked_reason` text;--> statement-breakpoint
ALTER TABLE `instances` ADD `controls_locked_by` text;--> statement-breakpoint
ALTER TABLE `instances` ADD `display_values` text DEFAULT '{}' NOT NULL;