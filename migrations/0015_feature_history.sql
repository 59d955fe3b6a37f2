CREATE TABLE "features_history" (
	"id" bigint NOT NULL,
	"layer_id" text NOT NULL,
	"geom" geometry(Geometry,4490) NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"valid_from" date,
	"valid_to" date,
	"division_code" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text,
	"version" integer DEFAULT 1 NOT NULL,
	"recorded_from" timestamp with time zone DEFAULT now() NOT NULL,
	"superseded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "change_log" ADD COLUMN "previous_division_code" text;--> statement-breakpoint
ALTER TABLE "change_log" ADD COLUMN "previous_other_division_code" text;--> statement-breakpoint
ALTER TABLE "features" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "features" ADD COLUMN "recorded_from" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "features_history_id_idx" ON "features_history" USING btree ("id","recorded_from");