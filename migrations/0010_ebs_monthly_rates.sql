ALTER TABLE `bills` ADD `monthly_rate` real;--> statement-breakpoint
ALTER TABLE `volumes` ADD `iops` integer;--> statement-breakpoint
ALTER TABLE `volumes` ADD `throughput` integer;