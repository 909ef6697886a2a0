/**
 * The layers of docs/architecture.md, checked by `npm run lint`: imports point
 * down (web and server -> backends -> core -> protocol), protocol imports
 * nothing of ours, and there are no import cycles.
 */
const SOURCE = "^(packages|apps)/[^/]+/(src|e2e|test)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "An import cycle leaves one side's values uninitialised at load time.",
      from: { path: SOURCE },
      to: { circular: true },
    },
    {
      name: "protocol-is-the-floor",
      severity: "error",
      comment: "packages/protocol depends on TypeBox only.",
      from: { path: "^packages/protocol/" },
      to: { path: "^(packages/(core|backends)|apps)/" },
    },
    {
      name: "core-sees-only-protocol",
      severity: "error",
      comment: "The engine has no I/O and knows no adapter or app.",
      from: { path: "^packages/core/src/" },
      to: { path: "^(packages/backends|apps)/" },
    },
    {
      name: "backends-below-apps",
      severity: "error",
      from: { path: "^packages/backends/src/" },
      to: { path: "^apps/" },
    },
    {
      name: "server-not-web",
      severity: "error",
      from: { path: "^apps/server/" },
      to: { path: "^apps/web/" },
    },
    {
      name: "web-sees-only-protocol",
      severity: "error",
      comment: "The page never bundles engine, adapter or server code.",
      from: { path: "^apps/web/src/" },
      to: { path: "^(packages/(core|backends)|apps/server)/" },
    },
    {
      name: "server-no-upward-imports",
      severity: "error",
      comment:
        "Routes sit on top: plugins, services, the store, config and lib never import a route; " +
        "services never import a plugin; the store, config and lib never import a service.",
      from: { path: "^apps/server/src/(plugins|services|store|config|lib)/" },
      to: { path: "^apps/server/src/routes/" },
    },
    {
      name: "server-services-below-plugins",
      severity: "error",
      from: { path: "^apps/server/src/(services|store|config|lib)/" },
      to: { path: "^apps/server/src/plugins/" },
    },
    {
      name: "server-store-below-services",
      severity: "error",
      from: { path: "^apps/server/src/(store|config|lib)/" },
      to: { path: "^apps/server/src/services/" },
    },
    {
      name: "web-store-below-views",
      severity: "error",
      comment: "State never imports what draws it (components, views, the experiments tab).",
      from: { path: "^apps/web/src/store/" },
      to: { path: "^apps/web/src/(components|views|experiments)/|\\.tsx$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules|/dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs"],
    },
  },
};
