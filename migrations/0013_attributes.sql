CREATE TABLE "attribute_definitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"registry" text NOT NULL,
	"record_type" text NOT NULL,
	"layer_id" text,
	"code" text NOT NULL,
	"version" integer NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"data_type" text NOT NULL,
	"min_value" text,
	"max_value" text,
	"pattern" text,
	"code_values" text[],
	"owner_dept" text NOT NULL,
	"update_frequency" text NOT NULL,
	"level" text NOT NULL,
	"share" text NOT NULL,
	"mask" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"defined_by" text NOT NULL,
	"defined_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_by" text,
	"retired_at" timestamp with time zone,
	"retire_reason" text,
	"superseded_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "attribute_values" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"definition_id" bigint NOT NULL,
	"record_type" text NOT NULL,
	"code" text NOT NULL,
	"record_id" bigint NOT NULL,
	"value_text" text,
	"value_int" bigint,
	"value_num" numeric,
	"value_date" date,
	"value_bool" boolean,
	"value_geom" geometry(Geometry,4490),
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"valid_to" timestamp with time zone,
	"source_dept" text NOT NULL,
	"source_batch" text,
	"recorded_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "attribute_values" ADD CONSTRAINT "attribute_values_definition_id_attribute_definitions_id_fk" FOREIGN KEY ("definition_id") REFERENCES "public"."attribute_definitions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "attribute_definitions_version_key" ON "attribute_definitions" USING btree ("record_type","code","version");--> statement-breakpoint
CREATE UNIQUE INDEX "attribute_definitions_current_key" ON "attribute_definitions" USING btree ("record_type","code") WHERE superseded_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "attribute_values_current_key" ON "attribute_values" USING btree ("record_type","code","record_id") WHERE valid_to IS NULL;--> statement-breakpoint
CREATE INDEX "attribute_values_record_idx" ON "attribute_values" USING btree ("record_type","record_id") WHERE valid_to IS NULL;--> statement-breakpoint
CREATE INDEX "attribute_values_history_idx" ON "attribute_values" USING btree ("record_type","code","record_id","valid_from");--> statement-breakpoint
CREATE INDEX "attribute_values_int_idx" ON "attribute_values" USING btree ("record_type","code","value_int") WHERE valid_to IS NULL AND value_int IS NOT NULL;--> statement-breakpoint
CREATE INDEX "attribute_values_num_idx" ON "attribute_values" USING btree ("record_type","code","value_num") WHERE valid_to IS NULL AND value_num IS NOT NULL;--> statement-breakpoint
CREATE INDEX "attribute_values_date_idx" ON "attribute_values" USING btree ("record_type","code","value_date") WHERE valid_to IS NULL AND value_date IS NOT NULL;--> statement-breakpoint
CREATE INDEX "attribute_values_text_idx" ON "attribute_values" USING btree ("record_type","code","value_text") WHERE valid_to IS NULL AND value_text IS NOT NULL;--> statement-breakpoint
CREATE INDEX "attribute_values_bool_idx" ON "attribute_values" USING btree ("record_type","code","value_bool") WHERE valid_to IS NULL AND value_bool IS NOT NULL;--> statement-breakpoint
CREATE INDEX "attribute_values_geom_gix" ON "attribute_values" USING gist ("value_geom") WHERE valid_to IS NULL AND value_geom IS NOT NULL;