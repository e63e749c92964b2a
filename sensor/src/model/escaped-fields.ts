import type { EcsEvent, EcsProcessRef } from '../../../kibana-plugin/common/ecs.ts';
import { isEscapedName } from '../../../kibana-plugin/common/escaped-names.ts';

/**
 * Names out of the kernel that were not valid UTF-8 are escaped (kibana-plugin/common/escaped-names.ts); the
 * document lists which of its fields hold such a name in `provmon.escaped_fields`, so a query or a reader can find
 * them and recover the bytes. Only the fields that carry names are looked at: a handful of native scans per document.
 */
export function markEscapedFields(doc: EcsEvent): EcsEvent {
  const found: string[] = [];
  const check = (field: string, value: string | undefined): void => {
    if (value !== undefined && isEscapedName(value)) found.push(field);
  };
  const checkAll = (field: string, values: readonly string[] | undefined): void => {
    if (values?.some(isEscapedName)) found.push(field);
  };
  const checkProcess = (prefix: string, p: EcsProcessRef | undefined): void => {
    if (!p) return;
    check(`${prefix}.name`, p.name);
    check(`${prefix}.executable`, p.executable);
    checkAll(`${prefix}.args`, p.args);
  };
  checkProcess('process', doc.process);
  checkProcess('process.parent', doc.process?.parent);
  check('process.working_directory', doc.process?.working_directory);
  check('file.path', doc.file?.path);
  check('file.name', doc.file?.name);
  check('file.directory', doc.file?.directory);
  const extra = doc.provmon as { file?: { source_path?: string }; exec?: { filename?: string; args?: string[] } } | undefined;
  check('provmon.file.source_path', extra?.file?.source_path);
  check('provmon.exec.filename', extra?.exec?.filename);
  checkAll('provmon.exec.args', extra?.exec?.args);
  if (found.length > 0) doc.provmon = { ...doc.provmon, escaped_fields: found };
  return doc;
}
