/** drizzle-kit settings: `deno task db:generate` writes SQL migrations from lib/db/schema.ts. */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
	dialect: "sqlite",
	schema: "./lib/db/schema.ts",
	out: "./migrations",
	breakpoints: true,
});
