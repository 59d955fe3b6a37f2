CREATE TABLE "api_keys" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"department_code" text NOT NULL,
	"application" text NOT NULL,
	"roles" text[] DEFAULT '{}' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_prefix_unique" UNIQUE("prefix")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"principal" text NOT NULL,
	"department_code" text,
	"purpose" text,
	"channel" text NOT NULL,
	"operation" text,
	"document_hash" text,
	"fields" jsonb NOT NULL,
	"row_counts" jsonb NOT NULL,
	"subjects" text[] NOT NULL,
	"outcome" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "departments" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"admin_level" text NOT NULL,
	"jurisdiction_code" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "grants" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"department_code" text NOT NULL,
	"dataset" text NOT NULL,
	"max_level" integer NOT NULL,
	"purposes" text[] DEFAULT '{}' NOT NULL,
	"can_write" boolean DEFAULT false NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"valid_to" timestamp with time zone,
	"granted_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "purposes" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"legal_basis" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "household_members" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"household_id" bigint NOT NULL,
	"person_id" bigint NOT NULL,
	"relation" text NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "households" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"household_number" text NOT NULL,
	"type" text NOT NULL,
	"head_person_id" bigint,
	"division_code" text NOT NULL,
	"address" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "persons" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"id_number" text NOT NULL,
	"name" text NOT NULL,
	"gender" text NOT NULL,
	"birth_date" date NOT NULL,
	"ethnicity" text,
	"nationality" text DEFAULT 'CHN' NOT NULL,
	"hukou_division_code" text NOT NULL,
	"hukou_address" text,
	"residence_division_code" text,
	"residence_address" text,
	"residence_point" geometry(Point,4490),
	"marital_status" text,
	"education" text,
	"phone" text,
	"status" text DEFAULT 'alive' NOT NULL,
	"death_date" date,
	"household_id" bigint,
	"version" integer DEFAULT 1 NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "persons_history" (
	"id" bigint NOT NULL,
	"id_number" text NOT NULL,
	"name" text NOT NULL,
	"gender" text NOT NULL,
	"birth_date" date NOT NULL,
	"ethnicity" text,
	"nationality" text DEFAULT 'CHN' NOT NULL,
	"hukou_division_code" text NOT NULL,
	"hukou_address" text,
	"residence_division_code" text,
	"residence_address" text,
	"residence_point" geometry(Point,4490),
	"marital_status" text,
	"education" text,
	"phone" text,
	"status" text DEFAULT 'alive' NOT NULL,
	"death_date" date,
	"household_id" bigint,
	"version" integer DEFAULT 1 NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text,
	"superseded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "residences" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"person_id" bigint NOT NULL,
	"division_code" text NOT NULL,
	"address" text,
	"point" geometry(Point,4490),
	"valid_from" date NOT NULL,
	"valid_to" date,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "vital_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"person_id" bigint NOT NULL,
	"type" text NOT NULL,
	"event_date" date NOT NULL,
	"division_code" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "code_lists" (
	"list" text NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"name_en" text,
	"standard" text NOT NULL,
	CONSTRAINT "code_lists_list_code_pk" PRIMARY KEY("list","code")
);
--> statement-breakpoint
CREATE TABLE "divisions" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"level" text NOT NULL,
	"parent_code" text,
	"code_system" text NOT NULL,
	"prefix" text NOT NULL,
	"valid_from" date,
	"valid_to" date,
	"boundary" geometry(MultiPolygon,4490),
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE INDEX "api_keys_department_idx" ON "api_keys" USING btree ("department_code");--> statement-breakpoint
CREATE INDEX "audit_log_subjects_gin" ON "audit_log" USING gin ("subjects");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "grants_department_idx" ON "grants" USING btree ("department_code","dataset");--> statement-breakpoint
CREATE INDEX "household_members_household_idx" ON "household_members" USING btree ("household_id");--> statement-breakpoint
CREATE INDEX "household_members_person_idx" ON "household_members" USING btree ("person_id");--> statement-breakpoint
CREATE UNIQUE INDEX "households_number_key" ON "households" USING btree ("household_number");--> statement-breakpoint
CREATE INDEX "households_division_idx" ON "households" USING btree ("division_code");--> statement-breakpoint
CREATE UNIQUE INDEX "persons_id_number_key" ON "persons" USING btree ("id_number");--> statement-breakpoint
CREATE INDEX "persons_residence_division_idx" ON "persons" USING btree ("residence_division_code");--> statement-breakpoint
CREATE INDEX "persons_hukou_division_idx" ON "persons" USING btree ("hukou_division_code");--> statement-breakpoint
CREATE INDEX "persons_household_idx" ON "persons" USING btree ("household_id");--> statement-breakpoint
CREATE INDEX "persons_residence_point_gix" ON "persons" USING gist ("residence_point");--> statement-breakpoint
CREATE INDEX "persons_history_id_idx" ON "persons_history" USING btree ("id","valid_from");--> statement-breakpoint
CREATE INDEX "residences_person_idx" ON "residences" USING btree ("person_id","valid_from");--> statement-breakpoint
CREATE INDEX "vital_events_person_idx" ON "vital_events" USING btree ("person_id","event_date");--> statement-breakpoint
CREATE INDEX "vital_events_division_date_idx" ON "vital_events" USING btree ("division_code","event_date");--> statement-breakpoint
CREATE INDEX "divisions_parent_idx" ON "divisions" USING btree ("parent_code");--> statement-breakpoint
CREATE INDEX "divisions_prefix_idx" ON "divisions" USING btree ("prefix");--> statement-breakpoint
CREATE INDEX "divisions_boundary_gix" ON "divisions" USING gist ("boundary");--> statement-breakpoint
CREATE INDEX "divisions_current_level_idx" ON "divisions" USING btree ("level") WHERE valid_to is null;