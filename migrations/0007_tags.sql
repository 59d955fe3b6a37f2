CREATE TABLE "tag_assignments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tag_code" text NOT NULL,
	"registry" text NOT NULL,
	"record_id" bigint NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"valid_to" timestamp with time zone,
	"rule_version" text,
	"as_of" date,
	"assigned_by" text NOT NULL,
	"assigner_dept" text,
	"reason" text,
	"closed_by" text,
	"close_reason" text,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tag_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tag_code" text NOT NULL,
	"rule_version" text NOT NULL,
	"as_of" date NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"duration_ms" integer NOT NULL,
	"matched" bigint NOT NULL,
	"opened" bigint NOT NULL,
	"closed" bigint NOT NULL,
	"triggered_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tags" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"registry" text NOT NULL,
	"owner_dept" text NOT NULL,
	"level" text NOT NULL,
	"share" text NOT NULL,
	"mask" text NOT NULL,
	"kind" text NOT NULL,
	"rule_version" text,
	"rule_predicate" text,
	"recomputed_at" timestamp with time zone,
	"recomputed_as_of" date,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tag_assignments" ADD CONSTRAINT "tag_assignments_tag_code_tags_code_fk" FOREIGN KEY ("tag_code") REFERENCES "public"."tags"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "tag_assignments_current_key" ON "tag_assignments" USING btree ("tag_code","record_id") WHERE valid_to IS NULL;--> statement-breakpoint
CREATE INDEX "tag_assignments_record_idx" ON "tag_assignments" USING btree ("registry","record_id") WHERE valid_to IS NULL;--> statement-breakpoint
CREATE INDEX "tag_assignments_history_idx" ON "tag_assignments" USING btree ("tag_code","record_id","valid_from");--> statement-breakpoint
CREATE INDEX "tag_runs_tag_idx" ON "tag_runs" USING btree ("tag_code","id");