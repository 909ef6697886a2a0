// Each backend adds its export here.
export {};
