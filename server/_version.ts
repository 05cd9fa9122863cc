/**
 * The versions the server reports: the memcached release whose behaviour it
 * follows, and this package's own, read from its deno.json.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/** The memcached release whose behaviour this server follows. */
export const MEMCACHED_VERSION = "1.6.18";

/** This package's version, as deno.json gives it. */
export const PACKAGE_VERSION: string = denoJson.version;
