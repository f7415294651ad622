-- The team view's counts and chart (lib/db/instances.ts) sum instance_tallies instead of counting
-- every instance: how many instances that are not archived each owner has in each state and group
-- (0 for none). The triggers keep it in the transaction of every write to instances, whichever
-- process or hand-written SQL makes it; tests/instance_tallies_test.ts holds it to a count of the table.
-- instances_owner_idx gains the id, so an owner's instances newest first (ties by id) stop at the page.
CREATE TABLE `instance_tallies` (
	`owner_id` integer NOT NULL,
	`group_key` integer NOT NULL,
	`state` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`owner_id`, `group_key`, `state`)
);
--> statement-breakpoint
DROP INDEX `instances_owner_idx`;
--> statement-breakpoint
CREATE INDEX `instances_owner_idx` ON `instances` (`owner_id`,`archived`,`created_at`,`id`);
--> statement-breakpoint
INSERT INTO `instance_tallies` (`owner_id`, `group_key`, `state`, `n`)
SELECT `owner_id`, ifnull(`group_id`, 0), `state`, count(*) FROM `instances` WHERE `archived` = 0 GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE TRIGGER `instance_tallies_insert` AFTER INSERT ON `instances` WHEN NEW.`archived` = 0 BEGIN
	INSERT INTO `instance_tallies` (`owner_id`, `group_key`, `state`, `n`)
	VALUES (NEW.`owner_id`, ifnull(NEW.`group_id`, 0), NEW.`state`, 1) ON CONFLICT DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `instance_tallies_delete` AFTER DELETE ON `instances` WHEN OLD.`archived` = 0 BEGIN
	UPDATE `instance_tallies` SET `n` = `n` - 1
	WHERE `owner_id` = OLD.`owner_id` AND `group_key` = ifnull(OLD.`group_id`, 0) AND `state` = OLD.`state`;
END;
--> statement-breakpoint
CREATE TRIGGER `instance_tallies_update` AFTER UPDATE OF `owner_id`, `group_id`, `state`, `archived` ON `instances`
WHEN OLD.`owner_id` IS NOT NEW.`owner_id` OR OLD.`group_id` IS NOT NEW.`group_id` OR OLD.`state` IS NOT NEW.`state`
	OR OLD.`archived` IS NOT NEW.`archived`
BEGIN
	UPDATE `instance_tallies` SET `n` = `n` - 1
	WHERE OLD.`archived` = 0 AND `owner_id` = OLD.`owner_id` AND `group_key` = ifnull(OLD.`group_id`, 0)
		AND `state` = OLD.`state`;
	INSERT INTO `instance_tallies` (`owner_id`, `group_key`, `state`, `n`)
	SELECT NEW.`owner_id`, ifnull(NEW.`group_id`, 0), NEW.`state`, 1 WHERE NEW.`archived` = 0
	ON CONFLICT DO UPDATE SET `n` = `n` + 1;
END;
