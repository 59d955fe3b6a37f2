CREATE TABLE "features" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"layer_id" text NOT NULL,
	"geom" geometry(Geometry,4490) NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"valid_from" date,
	"valid_to" date,
	"division_code" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "layers" (
	"id" text PRIMARY KEY NOT NULL,
	"theme" text NOT NULL,
	"name" text NOT NULL,
	"owner_dept" text NOT NULL,
	"geometry_type" text NOT NULL,
	"crs" text DEFAULT 'EPSG:4490' NOT NULL,
	"update_frequency" text NOT NULL,
	"classification" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE TABLE "place_names" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"division_code" text NOT NULL,
	"point" geometry(Point,4490) NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source_dept" text NOT NULL,
	"source_batch" text
);
--> statement-breakpoint
CREATE INDEX "features_layer_idx" ON "features" USING btree ("layer_id","id");--> statement-breakpoint
CREATE INDEX "features_division_idx" ON "features" USING btree ("division_code");--> statement-breakpoint
CREATE INDEX "features_geom_gix" ON "features" USING gist ("geom");--> statement-breakpoint
CREATE INDEX "place_names_division_idx" ON "place_names" USING btree ("division_code");--> statement-breakpoint
CREATE INDEX "place_names_point_gix" ON "place_names" USING gist ("point");