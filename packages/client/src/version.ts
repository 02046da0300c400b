/** Version of @minitask/client (kept equal to package.json; a unit test checks). */
export const VERSION = "0.1.0";

/** Default `User-Agent` of every request. */
export const USER_AGENT = `minitask/${VERSION}`;
