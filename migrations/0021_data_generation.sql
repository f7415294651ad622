-- What the cached pages (lib/views/page_cache.ts: the dashboard and the team view) show is kept per
-- process and checked on every request against this counter: every write to a table those pages
-- read bumps it, whichever process (or hand-written SQL) makes it. Left out, as the pages read none
-- of it: audit_events and progress_reports/stack_events (a machine's own page), api_tokens (the
-- profile; its last use is written on every API call), job_leases but for what the sync banner
-- shows, and app_state's counters and health probe. tests/page_cache_test.ts holds this list to the schema.
INSERT INTO `app_state` (`key`, `value`) VALUES ('data_generation', '0') ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE TRIGGER `data_generation_users_insert` AFTER INSERT ON `users` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_users_update` AFTER UPDATE ON `users` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_users_delete` AFTER DELETE ON `users` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_groups_insert` AFTER INSERT ON `groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_groups_update` AFTER UPDATE ON `groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_groups_delete` AFTER DELETE ON `groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_memberships_insert` AFTER INSERT ON `memberships` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_memberships_update` AFTER UPDATE ON `memberships` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_memberships_delete` AFTER DELETE ON `memberships` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_managers_insert` AFTER INSERT ON `group_managers` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_managers_update` AFTER UPDATE ON `group_managers` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_managers_delete` AFTER DELETE ON `group_managers` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instance_types_insert` AFTER INSERT ON `instance_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instance_types_update` AFTER UPDATE ON `instance_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instance_types_delete` AFTER DELETE ON `instance_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_security_groups_insert` AFTER INSERT ON `security_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_security_groups_update` AFTER UPDATE ON `security_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_security_groups_delete` AFTER DELETE ON `security_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_security_groups_insert` AFTER INSERT ON `group_security_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_security_groups_update` AFTER UPDATE ON `group_security_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_security_groups_delete` AFTER DELETE ON `group_security_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_excluded_types_insert` AFTER INSERT ON `group_excluded_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_excluded_types_update` AFTER UPDATE ON `group_excluded_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_group_excluded_types_delete` AFTER DELETE ON `group_excluded_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_software_configs_insert` AFTER INSERT ON `software_configs` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_software_configs_update` AFTER UPDATE ON `software_configs` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_software_configs_delete` AFTER DELETE ON `software_configs` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_config_instance_types_insert` AFTER INSERT ON `config_instance_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_config_instance_types_update` AFTER UPDATE ON `config_instance_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_config_instance_types_delete` AFTER DELETE ON `config_instance_types` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_config_groups_insert` AFTER INSERT ON `config_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_config_groups_update` AFTER UPDATE ON `config_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_config_groups_delete` AFTER DELETE ON `config_groups` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_params_insert` AFTER INSERT ON `params` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_params_update` AFTER UPDATE ON `params` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_params_delete` AFTER DELETE ON `params` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_launches_insert` AFTER INSERT ON `launches` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_launches_update` AFTER UPDATE ON `launches` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_launches_delete` AFTER DELETE ON `launches` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instances_insert` AFTER INSERT ON `instances` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instances_update` AFTER UPDATE ON `instances` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instances_delete` AFTER DELETE ON `instances` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instance_resizes_insert` AFTER INSERT ON `instance_resizes` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instance_resizes_update` AFTER UPDATE ON `instance_resizes` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_instance_resizes_delete` AFTER DELETE ON `instance_resizes` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_volumes_insert` AFTER INSERT ON `volumes` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_volumes_update` AFTER UPDATE ON `volumes` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_volumes_delete` AFTER DELETE ON `volumes` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_clusters_insert` AFTER INSERT ON `clusters` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_clusters_update` AFTER UPDATE ON `clusters` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_clusters_delete` AFTER DELETE ON `clusters` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_found_machines_insert` AFTER INSERT ON `found_machines` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_found_machines_update` AFTER UPDATE ON `found_machines` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_found_machines_delete` AFTER DELETE ON `found_machines` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_bills_insert` AFTER INSERT ON `bills` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_bills_update` AFTER UPDATE ON `bills` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_bills_delete` AFTER DELETE ON `bills` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_machine_policies_insert` AFTER INSERT ON `machine_policies` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_machine_policies_update` AFTER UPDATE ON `machine_policies` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_machine_policies_delete` AFTER DELETE ON `machine_policies` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_machine_activity_insert` AFTER INSERT ON `machine_activity` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_machine_activity_update` AFTER UPDATE ON `machine_activity` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_machine_activity_delete` AFTER DELETE ON `machine_activity` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_policy_actions_insert` AFTER INSERT ON `policy_actions` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_policy_actions_update` AFTER UPDATE ON `policy_actions` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_policy_actions_delete` AFTER DELETE ON `policy_actions` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_notice_channels_insert` AFTER INSERT ON `notice_channels` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_notice_channels_update` AFTER UPDATE ON `notice_channels` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_notice_channels_delete` AFTER DELETE ON `notice_channels` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_budgets_insert` AFTER INSERT ON `budgets` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_budgets_update` AFTER UPDATE ON `budgets` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_budgets_delete` AFTER DELETE ON `budgets` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_approval_rules_insert` AFTER INSERT ON `approval_rules` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_approval_rules_update` AFTER UPDATE ON `approval_rules` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_approval_rules_delete` AFTER DELETE ON `approval_rules` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_approvals_insert` AFTER INSERT ON `approvals` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_approvals_update` AFTER UPDATE ON `approvals` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_approvals_delete` AFTER DELETE ON `approvals` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_user_notices_insert` AFTER INSERT ON `user_notices` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_user_notices_update` AFTER UPDATE ON `user_notices` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_user_notices_delete` AFTER DELETE ON `user_notices` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_actual_costs_insert` AFTER INSERT ON `actual_costs` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_actual_costs_update` AFTER UPDATE ON `actual_costs` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_actual_costs_delete` AFTER DELETE ON `actual_costs` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_job_leases_insert` AFTER INSERT ON `job_leases` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_job_leases_update` AFTER UPDATE OF `last_success_at`, `last_error`, `last_error_notice` ON `job_leases` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_job_leases_delete` AFTER DELETE ON `job_leases` BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_app_state_insert` AFTER INSERT ON `app_state` WHEN NEW.`key` NOT IN ('identity_generation', 'data_generation', 'health_probe') BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_app_state_update` AFTER UPDATE ON `app_state` WHEN NEW.`key` NOT IN ('identity_generation', 'data_generation', 'health_probe') BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
--> statement-breakpoint
CREATE TRIGGER `data_generation_app_state_delete` AFTER DELETE ON `app_state` WHEN OLD.`key` NOT IN ('identity_generation', 'data_generation', 'health_probe') BEGIN UPDATE `app_state` SET `value` = CAST(`value` AS INTEGER) + 1 WHERE `key` = 'data_generation'; END;
