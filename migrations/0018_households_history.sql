CREATE TABLE "households_history" (
	"id" bigint NOT NULL,
	"household_number" text NOT NULL,
	"type" text NOT NULL,
	"head_person_id" bigint,
	"division_code" text NOT NULL,
	"address" text,
	"address_bidx" text,
	"version" integer DEFAULT 1 NOT NULL,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text,
	"superseded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "households" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "households" ADD COLUMN "valid_from" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "households_history_id_idx" ON "households_history" USING btree ("id","valid_from");