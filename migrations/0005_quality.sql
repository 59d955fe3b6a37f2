CREATE TABLE "quality_failures" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" bigint NOT NULL,
	"rule_id" text NOT NULL,
	"record_key" text NOT NULL,
	"division_code" text,
	"detail" text
);
--> statement-breakpoint
CREATE TABLE "quality_issue_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"issue_id" bigint NOT NULL,
	"from_status" text NOT NULL,
	"status" text NOT NULL,
	"comment" text,
	"principal" text NOT NULL,
	"department_code" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quality_issues" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rule_id" text NOT NULL,
	"dataset" text NOT NULL,
	"record_key" text NOT NULL,
	"division_code" text,
	"detail" text,
	"status" text DEFAULT 'open' NOT NULL,
	"first_seen_run" bigint NOT NULL,
	"last_seen_run" bigint NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quality_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"registry" text NOT NULL,
	"dataset" text NOT NULL,
	"dimension" text NOT NULL,
	"severity" text NOT NULL,
	"threshold" numeric(7, 6) NOT NULL,
	"description" text NOT NULL,
	"kind" text NOT NULL,
	"source" text NOT NULL,
	"version" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quality_run_rules" (
	"run_id" bigint NOT NULL,
	"rule_id" text NOT NULL,
	"version" text NOT NULL,
	"registry" text NOT NULL,
	"dimension" text NOT NULL,
	"severity" text NOT NULL,
	"threshold" numeric(7, 6) NOT NULL,
	"checked" bigint NOT NULL,
	"failed" bigint NOT NULL,
	"exceeded" boolean NOT NULL,
	"duration_ms" integer NOT NULL,
	CONSTRAINT "quality_run_rules_run_id_rule_id_pk" PRIMARY KEY("run_id","rule_id")
);
--> statement-breakpoint
CREATE TABLE "quality_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"status" text DEFAULT 'running' NOT NULL,
	"registry_filter" text,
	"rule_filter" text[],
	"division_filter" text,
	"as_of" text NOT NULL,
	"rules" integer DEFAULT 0 NOT NULL,
	"rows_checked" bigint DEFAULT 0 NOT NULL,
	"failures" bigint DEFAULT 0 NOT NULL,
	"exceeded" integer DEFAULT 0 NOT NULL,
	"triggered_by" text NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE INDEX "quality_failures_run_rule_idx" ON "quality_failures" USING btree ("run_id","rule_id","id");--> statement-breakpoint
CREATE INDEX "quality_failures_run_division_idx" ON "quality_failures" USING btree ("run_id","division_code");--> statement-breakpoint
CREATE INDEX "quality_issue_events_issue_idx" ON "quality_issue_events" USING btree ("issue_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "quality_issues_rule_key" ON "quality_issues" USING btree ("rule_id","record_key");--> statement-breakpoint
CREATE INDEX "quality_issues_record_idx" ON "quality_issues" USING btree ("dataset","record_key");--> statement-breakpoint
CREATE INDEX "quality_issues_division_idx" ON "quality_issues" USING btree ("division_code","id");--> statement-breakpoint
CREATE INDEX "quality_issues_status_idx" ON "quality_issues" USING btree ("status","rule_id","id");--> statement-breakpoint
CREATE INDEX "quality_runs_started_idx" ON "quality_runs" USING btree ("started_at");