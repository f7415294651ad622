CREATE TABLE `app_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor_id` integer,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`resource_kind` text NOT NULL,
	`resource_id` text NOT NULL,
	`outcome` text NOT NULL,
	`detail` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`actor_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `audit_resource_idx` ON `audit_events` (`resource_id`,`at`);--> statement-breakpoint
CREATE TABLE `bills` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`resource_kind` text NOT NULL,
	`resource_id` text NOT NULL,
	`user_id` integer NOT NULL,
	`group_id` integer,
	`cost_center` text NOT NULL,
	`description` text NOT NULL,
	`hourly_rate` real,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bills_one_open_per_resource` ON `bills` (`resource_id`) WHERE ended_at IS NULL;--> statement-breakpoint
CREATE INDEX `bills_period_idx` ON `bills` (`started_at`,`ended_at`);--> statement-breakpoint
CREATE INDEX `bills_user_idx` ON `bills` (`user_id`);--> statement-breakpoint
CREATE TABLE `config_groups` (
	`config_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	PRIMARY KEY(`config_id`, `group_id`),
	FOREIGN KEY (`config_id`) REFERENCES `software_configs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `config_groups_group_idx` ON `config_groups` (`group_id`);--> statement-breakpoint
CREATE TABLE `config_instance_types` (
	`config_id` integer NOT NULL,
	`instance_type_id` integer NOT NULL,
	PRIMARY KEY(`config_id`, `instance_type_id`),
	FOREIGN KEY (`config_id`) REFERENCES `software_configs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`instance_type_id`) REFERENCES `instance_types`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE TABLE `group_excluded_types` (
	`group_id` integer NOT NULL,
	`instance_type_id` integer NOT NULL,
	PRIMARY KEY(`group_id`, `instance_type_id`),
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`instance_type_id`) REFERENCES `instance_types`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE TABLE `group_security_groups` (
	`group_id` integer NOT NULL,
	`security_group_id` integer NOT NULL,
	`kind` text NOT NULL,
	PRIMARY KEY(`group_id`, `security_group_id`, `kind`),
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`security_group_id`) REFERENCES `security_groups`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE TABLE `groups` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`directory_name` text,
	`key_name` text DEFAULT '' NOT NULL,
	`iam_instance_profile` text DEFAULT '' NOT NULL,
	`name_override` text DEFAULT '' NOT NULL,
	`ags` text DEFAULT '' NOT NULL,
	`cost_center` text DEFAULT '' NOT NULL,
	`sdlc` text DEFAULT '' NOT NULL,
	`emr_access` integer DEFAULT false NOT NULL,
	`settings` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `groups_name_unique` ON `groups` (`name`);--> statement-breakpoint
CREATE TABLE `instance_types` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `instance_types_name_unique` ON `instance_types` (`name`);--> statement-breakpoint
CREATE TABLE `instances` (
	`id` text PRIMARY KEY NOT NULL,
	`launch_id` text,
	`stack_id` text,
	`stack_name` text,
	`owner_id` integer NOT NULL,
	`group_id` integer,
	`config_id` integer,
	`name` text DEFAULT '' NOT NULL,
	`instance_type` text NOT NULL,
	`ami_id` text DEFAULT '' NOT NULL,
	`availability_zone` text DEFAULT '' NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`private_ip` text,
	`public_ip` text,
	`dns_ip` text,
	`dns_name` text,
	`progress_text` text,
	`progress_percent` integer,
	`progress_updated_at` integer,
	`pending_action` text,
	`pending_since` integer,
	`launched_at` integer,
	`started_at` integer,
	`stopped_at` integer,
	`last_seen_at` integer,
	`archived` integer DEFAULT false NOT NULL,
	`controls_locked` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`launch_id`) REFERENCES `launches`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`config_id`) REFERENCES `software_configs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `instances_owner_idx` ON `instances` (`owner_id`,`archived`);--> statement-breakpoint
CREATE INDEX `instances_state_idx` ON `instances` (`archived`,`state`);--> statement-breakpoint
CREATE INDEX `instances_group_idx` ON `instances` (`group_id`);--> statement-breakpoint
CREATE TABLE `job_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text,
	`expires_at` integer,
	`last_started_at` integer,
	`last_finished_at` integer,
	`last_success_at` integer,
	`last_error` text,
	`last_tick` integer,
	`runs` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `launches` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	`config_id` integer NOT NULL,
	`kind` text DEFAULT 'instance' NOT NULL,
	`instance_type` text NOT NULL,
	`options` text DEFAULT '{}' NOT NULL,
	`stack_name` text NOT NULL,
	`stack_id` text,
	`status` text DEFAULT 'queued' NOT NULL,
	`step` text DEFAULT 'Waiting to start' NOT NULL,
	`reason` text,
	`progress_token_hash` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`submitted_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`config_id`) REFERENCES `software_configs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `launches_status_idx` ON `launches` (`status`);--> statement-breakpoint
CREATE INDEX `launches_user_idx` ON `launches` (`user_id`);--> statement-breakpoint
CREATE TABLE `memberships` (
	`user_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	`source` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`user_id`, `group_id`, `source`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `memberships_group_idx` ON `memberships` (`group_id`);--> statement-breakpoint
CREATE TABLE `params` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token` text NOT NULL,
	`value` text DEFAULT '' NOT NULL,
	`description` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `params_token_unique` ON `params` (`token`);--> statement-breakpoint
CREATE TABLE `security_groups` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sg_id` text NOT NULL,
	`name` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `security_groups_sg_id_unique` ON `security_groups` (`sg_id`);--> statement-breakpoint
CREATE TABLE `software_configs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`kind` text DEFAULT 'instance' NOT NULL,
	`ami_id` text DEFAULT '' NOT NULL,
	`template_body` text NOT NULL,
	`user_data_body` text DEFAULT '' NOT NULL,
	`instance_name` text DEFAULT '' NOT NULL,
	`description_html` text DEFAULT '' NOT NULL,
	`has_progress_bar` integer DEFAULT false NOT NULL,
	`os` text DEFAULT 'linux' NOT NULL,
	`volume_device` text DEFAULT '' NOT NULL,
	`volume_size_gb` integer DEFAULT 10 NOT NULL,
	`volume_type` text DEFAULT 'gp2' NOT NULL,
	`volume_kms_key` text DEFAULT '' NOT NULL,
	`params` text DEFAULT '{}' NOT NULL,
	`custom_url_format` text DEFAULT '' NOT NULL,
	`emr_master_security_group` text DEFAULT '' NOT NULL,
	`emr_slave_security_group` text DEFAULT '' NOT NULL,
	`emr_additional_master_security_groups` text DEFAULT '' NOT NULL,
	`emr_additional_slave_security_groups` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `software_configs_name_unique` ON `software_configs` (`name`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`username` text NOT NULL,
	`first_name` text DEFAULT '' NOT NULL,
	`last_name` text DEFAULT '' NOT NULL,
	`email` text DEFAULT '' NOT NULL,
	`role` text DEFAULT 'user' NOT NULL,
	`directory_role` text,
	`last_login_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`username`);--> statement-breakpoint
CREATE TABLE `volumes` (
	`id` text PRIMARY KEY NOT NULL,
	`instance_id` text,
	`launch_id` text,
	`owner_id` integer NOT NULL,
	`group_id` integer,
	`size_gb` integer DEFAULT 0 NOT NULL,
	`device` text DEFAULT '' NOT NULL,
	`volume_type` text DEFAULT 'gp2' NOT NULL,
	`state` text DEFAULT 'creating' NOT NULL,
	`last_seen_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`launch_id`) REFERENCES `launches`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `volumes_instance_idx` ON `volumes` (`instance_id`);