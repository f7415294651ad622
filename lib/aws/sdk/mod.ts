/**
 * The portal's {@link Aws} over the AWS SDK v3: one module per service, all sending through one
 * {@link createSdk} (lazy clients, retries, timeouts, boto.log, metrics, AwsErrors), and
 * the placement from instance metadata. `lib/aws/` is the only place that imports `@aws-sdk/*`.
 */
import type { Aws } from "../types.ts";
import { type AwsOptions, createSdk } from "./client.ts";
import { cloudFormationApi } from "./cloudformation.ts";
import { cloudWatchApi } from "./cloudwatch.ts";
import { costExplorerApi } from "./cost_explorer.ts";
import { ec2Api } from "./ec2.ts";
import { emrApi } from "./emr.ts";
import { metadataPlacement } from "./metadata.ts";
import { route53Api } from "./route53.ts";

/** Builds the portal's AWS interface over the SDK; `close()` releases the clients it created. */
export function createAws(options: AwsOptions): Aws & { close(): void } {
	const sdk = createSdk(options);
	return {
		cloudFormation: cloudFormationApi(sdk),
		ec2: ec2Api(sdk),
		route53: route53Api(sdk),
		emr: emrApi(sdk),
		cloudWatch: cloudWatchApi(sdk),
		costExplorer: costExplorerApi(sdk),
		placement: metadataPlacement({ url: options.metadataUrl, log: options.log }),
		close: () => sdk.close(),
	};
}
