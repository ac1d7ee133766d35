import type { FileRecord, MetadataStore } from './metadata-store.ts';

/** Every file, in name order, read a page at a time: millions of records are never held at once. */
export async function* allFiles(metadata: MetadataStore, pageSize = 1000): AsyncGenerator<FileRecord> {
  let after: string | undefined;
  do {
    const page = await metadata.listFilePage({ after, limit: pageSize });
    yield* page.files;
    after = page.next;
  } while (after !== undefined);
}
