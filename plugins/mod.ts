/**
 * The shipped plugins, imported statically so a bundle or compiled binary carries them. The loader
 * uses these when the configured folder (e.g. `plugins/auth_ldap`) is not on disk.
 */
import * as authDevSettings from "./auth_dev/plugin_settings.ts";
import * as authDev from "./auth_dev/dev_auth.ts";
import * as authHeaderSettings from "./auth_header/plugin_settings.ts";
import * as authHeader from "./auth_header/header_auth.ts";
import * as authLdapSettings from "./auth_ldap/plugin_settings.ts";
import * as authLdap from "./auth_ldap/ldap_auth.ts";
import * as authOidcSettings from "./auth_oidc/plugin_settings.ts";
import * as authOidc from "./auth_oidc/oidc_auth.ts";
import * as displayAmiSettings from "./display_ami/plugin_settings.ts";
import * as displayAmi from "./display_ami/ami_display.ts";
import * as displayNone from "./display_none/no_display.ts";
import * as dnsNone from "./dns_none/no_dns.ts";
import * as dnsRoute53Settings from "./dns_route53/plugin_settings.ts";
import * as dnsRoute53 from "./dns_route53/route53_dns.ts";

/** Folder name → file name → module. */
export const SHIPPED_PLUGINS: Readonly<Record<string, Record<string, Record<string, unknown>>>> = {
	auth_dev: { "dev_auth.ts": authDev, "plugin_settings.ts": authDevSettings },
	auth_header: { "header_auth.ts": authHeader, "plugin_settings.ts": authHeaderSettings },
	auth_ldap: { "ldap_auth.ts": authLdap, "plugin_settings.ts": authLdapSettings },
	auth_oidc: { "oidc_auth.ts": authOidc, "plugin_settings.ts": authOidcSettings },
	display_ami: { "ami_display.ts": displayAmi, "plugin_settings.ts": displayAmiSettings },
	display_none: { "no_display.ts": displayNone },
	dns_none: { "no_dns.ts": dnsNone },
	dns_route53: { "route53_dns.ts": dnsRoute53, "plugin_settings.ts": dnsRoute53Settings },
};
