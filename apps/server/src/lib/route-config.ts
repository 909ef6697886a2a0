/**
 * What a route declares about who may call it. The access check, the request
 * meter and the cross-site check read these flags from the route the router
 * matched, after its own decoding of the path (percent-escapes, `#`, `;`,
 * dot segments), never from the URL's text: no spelling of a path can reach
 * a handler that the check did not see. A request that matched no route has
 * none of them, so it is neither public nor metered, and it reaches only the
 * not-found handler, which holds no data.
 */
declare module "fastify" {
  interface FastifyContextConfig {
    /** Open without the access token: health checks, signing in and out, the page's built files. */
    public?: boolean;
    /** An HTML page: without a session it answers with the token form, and `?token=` signs in. */
    page?: boolean;
    /** Counted against the client's request rate (default). Off for health, sign-in and the page's files. */
    metered?: boolean;
    /** Takes the token as `?token=`: the WebSocket upgrade, for which a browser cannot set headers. */
    tokenInQuery?: boolean;
  }
}

export {};
