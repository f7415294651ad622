ALTER TABLE `users` ADD `csrf_epoch` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `csrf_previous_until` integer;