/**
 * Files only the portal's own account may read or write: its database (which holds the secret
 * that signs every CSRF and progress token), its backups and its logs (user names, addresses,
 * AWS resource ids). Made 0700 (folders) and 0600 (files) explicitly, whatever the umask.
 */

/** Creates `path` (and missing parents) as 0700; a folder that already exists is left as it is. */
export async function privateFolder(path: string): Promise<void> {
	try {
		await Deno.stat(path);
		return;
	} catch (error) {
		if (!(error instanceof Deno.errors.NotFound)) throw error;
	}
	await Deno.mkdir(path, { recursive: true, mode: 0o700 });
	// mkdir's mode passes through the umask; the folder itself is made exact.
	await Deno.chmod(path, 0o700);
}

/**
 * Creates `path` as an empty 0600 file when it does not exist; an existing one loses any group or
 * other permission (an older version, or a copy, may have left it readable).
 */
export async function privateFile(path: string): Promise<void> {
	try {
		const file = await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
		file.close();
		await Deno.chmod(path, 0o600);
	} catch (error) {
		if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
		const { mode } = await Deno.stat(path);
		if (mode !== null && (mode & 0o077) !== 0) await Deno.chmod(path, mode & 0o700);
	}
}

/** Tightens `path` like {@link privateFile} when it exists; nothing when it does not. */
export async function tightenIfPresent(path: string): Promise<void> {
	try {
		const { mode } = await Deno.stat(path);
		if (mode !== null && (mode & 0o077) !== 0) await Deno.chmod(path, mode & 0o700);
	} catch (error) {
		if (!(error instanceof Deno.errors.NotFound)) throw error;
	}
}
