-- Who a signed-in user is (lib/auth/identity_cache.ts) is cached per process and checked against
-- this counter on every request: every write that can change a viewer, their CSRF generation or a
-- session bumps it, whichever process (or hand-written SQL) makes it. Of a group only the directory
-- names count (they decide directory memberships); its other settings are not who anyone is.
INSERT INTO `app_state` (`key`, `value`) VALUES ('identity_generation', '0') ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_users_insert` AFTER INSERT ON `users` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_users_update` AFTER UPDATE ON `users` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_users_delete` AFTER DELETE ON `users` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_memberships_insert` AFTER INSERT ON `memberships` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_memberships_update` AFTER UPDATE ON `memberships` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_memberships_delete` AFTER DELETE ON `memberships` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_group_managers_insert` AFTER INSERT ON `group_managers` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_group_managers_update` AFTER UPDATE ON `group_managers` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_group_managers_delete` AFTER DELETE ON `group_managers` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_groups_insert` AFTER INSERT ON `groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_groups_update` AFTER UPDATE OF `directory_name`, `manager_directory_name` ON `groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_groups_delete` AFTER DELETE ON `groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_sessions_insert` AFTER INSERT ON `app_state` WHEN NEW.`key` LIKE 'sign-in-session:%' OR NEW.`key` LIKE 'break-glass-session:%' BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_sessions_update` AFTER UPDATE ON `app_state` WHEN NEW.`key` LIKE 'sign-in-session:%' OR NEW.`key` LIKE 'break-glass-session:%' BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `identity_generation_sessions_delete` AFTER DELETE ON `app_state` WHEN OLD.`key` LIKE 'sign-in-session:%' OR OLD.`key` LIKE 'break-glass-session:%' BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'identity_generation'; END;
