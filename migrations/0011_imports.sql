CREATE TABLE "data_disputes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"dataset" text NOT NULL,
	"record_type" text NOT NULL,
	"record_id" bigint NOT NULL,
	"field" text,
	"reason" text NOT NULL,
	"division_code" text,
	"raised_by_dept" text NOT NULL,
	"raised_by" text NOT NULL,
	"raised_at" timestamp with time zone DEFAULT now() NOT NULL,
	"owner_dept" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"resolved_by_dept" text,
	"resolved_by" text,
	"resolved_at" timestamp with time zone,
	"resolution" text,
	"correction_batch" text
);
--> statement-breakpoint
CREATE TABLE "feature_keys" (
	"layer_id" text NOT NULL,
	"feature_key" text NOT NULL,
	"feature_id" bigint NOT NULL,
	CONSTRAINT "feature_keys_layer_id_feature_key_pk" PRIMARY KEY("layer_id","feature_key")
);
--> statement-breakpoint
CREATE TABLE "import_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"registry" text NOT NULL,
	"source_dept" text NOT NULL,
	"file_name" text NOT NULL,
	"file_checksum" text NOT NULL,
	"format" text NOT NULL,
	"submitted_by" text NOT NULL,
	"note" text,
	"status" text NOT NULL,
	"phase" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"total_rows" integer DEFAULT 0 NOT NULL,
	"accepted" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"inserted" integer DEFAULT 0 NOT NULL,
	"changed" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "import_lineage" (
	"batch_id" text NOT NULL,
	"row_no" integer NOT NULL,
	"record_type" text NOT NULL,
	"record_id" bigint NOT NULL,
	"version" integer,
	"action" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "import_rejects" (
	"batch_id" text NOT NULL,
	"row_no" integer NOT NULL,
	"field" text NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "change_log" ADD COLUMN "other_division_code" text;--> statement-breakpoint
CREATE INDEX "data_disputes_owner_idx" ON "data_disputes" USING btree ("owner_dept","status");--> statement-breakpoint
CREATE INDEX "data_disputes_raiser_idx" ON "data_disputes" USING btree ("raised_by_dept","status");--> statement-breakpoint
CREATE INDEX "data_disputes_record_idx" ON "data_disputes" USING btree ("record_type","record_id");--> statement-breakpoint
CREATE UNIQUE INDEX "feature_keys_feature_key" ON "feature_keys" USING btree ("feature_id");--> statement-breakpoint
CREATE UNIQUE INDEX "import_batches_content_key" ON "import_batches" USING btree ("registry","source_dept","file_checksum");--> statement-breakpoint
CREATE INDEX "import_batches_started_idx" ON "import_batches" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "import_lineage_record_idx" ON "import_lineage" USING btree ("record_type","record_id");--> statement-breakpoint
CREATE INDEX "import_rejects_batch_idx" ON "import_rejects" USING btree ("batch_id","row_no");