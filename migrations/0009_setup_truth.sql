ALTER TABLE `instances` ADD `setup_state` text;--> statement-breakpoint
ALTER TABLE `instances` ADD `setup_ended_at` integer;--> statement-breakpoint
ALTER TABLE `instances` ADD `console_tail` text;--> statement-breakpoint
ALTER TABLE `instances` ADD `console_tail_at` integer;--> statement-breakpoint
ALTER TABLE `launches` ADD `dismissed_at` integer;--> statement-breakpoint
ALTER TABLE `software_configs` ADD `failure_stages` text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Rows from before setup states: a report at 100 ended the setup, a lower one left it running.
UPDATE `instances` SET `setup_state` = CASE WHEN `progress_percent` >= 100 THEN 'done' ELSE 'running' END WHERE `progress_percent` IS NOT NULL;