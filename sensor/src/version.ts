import pkg from '../../package.json' with { type: 'json' };

export const PROVMON_VERSION: string = pkg.version;
